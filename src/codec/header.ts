import { DecodeError } from '../errors.js';

/**
 * The envelope's header, [fixarray, head, from, id, topic?], as msgpack
 * written and read by hand: the sender's id and the topic are the same
 * strings frame after frame, so their bytes are kept from the last frame
 * instead of being encoded (and, on the other side, decoded into a new
 * string) every time. msgpackr packs and unpacks only the payload after it.
 *
 * Integers below 64 are the only fixints written: in a frame with records,
 * 0x40..0x7f are record ids.
 */

/** Longest header written by hand (msgpackr reserves at most 255 bytes before what it packs). */
export const MAX_HEADER_BYTES = 255;
const EMPTY = new Uint8Array(0);
/** msgpack nil: the topic of a traced frame that has none. */
const NIL = 0xc0;

/** The UTF-8 bytes of the last string given, kept while the same string comes back. */
class Utf8Memo {
  #str = '';
  bytes: Uint8Array = EMPTY;

  of(s: string): Uint8Array {
    if (s !== this.#str || this.bytes === EMPTY) {
      this.#str = s;
      this.bytes = Buffer.from(s, 'utf8');
    }
    return this.bytes;
  }
}

function strBytes(len: number): number {
  return len < 32 ? 1 + len : len < 256 ? 2 + len : Infinity;
}

function intBytes(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return Infinity;
  return n < 64 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/** Writes headers; one per codec. `size` then `write`, with nothing in between. */
export class HeaderWriter {
  readonly #from = new Utf8Memo();
  readonly #topic = new Utf8Memo();

  /** Bytes of the header of (from, id, topic), or -1 when it is not written by hand (msgpackr packs the whole array). */
  size(from: string, id: number, topic: string | undefined): number {
    const n = 1 + 1 + strBytes(this.#from.of(from).length) + intBytes(id) + (topic === undefined ? 0 : strBytes(this.#topic.of(topic).length));
    return n <= MAX_HEADER_BYTES ? n : -1;
  }

  /** Write the header `size` measured at `out[at..]`. */
  write(out: Uint8Array, at: number, head: number, id: number, hasTopic: boolean): void {
    let p = at;
    out[p++] = hasTopic ? 0x95 : 0x94;
    out[p++] = head;
    p = writeStr(out, p, this.#from.bytes);
    if (id < 64) out[p++] = id;
    else if (id < 0x100) {
      out[p++] = 0xcc;
      out[p++] = id;
    } else if (id < 0x10000) {
      out[p++] = 0xcd;
      out[p++] = id >>> 8;
      out[p++] = id & 0xff;
    } else if (id < 0x100000000) {
      out[p++] = 0xce;
      p = writeU32(out, p, id);
    } else {
      out[p++] = 0xcf;
      p = writeU32(out, p, Math.floor(id / 0x100000000));
      p = writeU32(out, p, id >>> 0);
    }
    if (hasTopic) writeStr(out, p, this.#topic.bytes);
  }
}

function writeU32(out: Uint8Array, p: number, v: number): number {
  out[p] = v >>> 24;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
  return p + 4;
}

function writeStr(out: Uint8Array, p: number, b: Uint8Array): number {
  const len = b.length;
  if (len < 32) out[p++] = 0xa0 | len;
  else {
    out[p++] = 0xd9;
    out[p++] = len;
  }
  for (let i = 0; i < len; i++) out[p + i] = b[i]!;
  return p + len;
}

/** A string read from frame bytes, kept with its bytes: the next frame with the same bytes gets the same string, unallocated. */
export class StringMemo {
  #bytes = new Uint8Array(32);
  #len = -1;
  #str = '';

  read(src: Uint8Array, start: number, len: number): string {
    if (len === this.#len) {
      const b = this.#bytes;
      let i = 0;
      while (i < len && b[i] === src[start + i]) i++;
      if (i === len) return this.#str;
    }
    this.#str = Buffer.prototype.toString.call(src, 'utf8', start, start + len);
    if (this.#bytes.length < len) this.#bytes = new Uint8Array(len);
    this.#bytes.set(src.subarray(start, start + len));
    this.#len = len;
    return this.#str;
  }
}

/** Reads one header out of private (not shared) bytes; the fields are left in its properties. */
export class HeaderReader {
  from = '';
  id = 0;
  topic: string | undefined = undefined;
  /** The trace context (a frame of 6 fields), else undefined. */
  trace: string | undefined = undefined;
  /** Where the payload starts. */
  end = 0;
  readonly #topics = new StringMemo();
  readonly #traces = new StringMemo();

  /** Read the header at `src[at..limit)`, whose array and head bytes were checked; `from` is read through `fromMemo`. */
  read(src: Uint8Array, at: number, limit: number, fromMemo: StringMemo): void {
    const hasTrace = src[at] === 0x96;
    const hasTopic = src[at] !== 0x94; // a traced frame (6 fields) has a topic or nil in its place
    let p = at + 2;
    p = this.#str(src, p, limit, fromMemo, 'from');
    this.from = this.#s;
    p = this.#int(src, p, limit);
    if (hasTrace && src[p] === NIL) {
      p += 1;
      this.topic = undefined;
    } else if (hasTopic) {
      p = this.#str(src, p, limit, this.#topics, 'topic');
      this.topic = this.#s;
    } else this.topic = undefined;
    if (hasTrace) {
      p = this.#str(src, p, limit, this.#traces, 'trace');
      this.trace = this.#s;
    } else this.trace = undefined;
    if (p >= limit) throw new DecodeError(`frame of ${limit - at} bytes ends inside its header`);
    this.end = p;
  }

  #s = '';

  #str(src: Uint8Array, p: number, limit: number, memo: StringMemo, field: string): number {
    const t = src[p]!;
    let len: number;
    if (t >= 0xa0 && t <= 0xbf) {
      len = t & 0x1f;
      p += 1;
    } else if (t === 0xd9) {
      len = src[p + 1]!;
      p += 2;
    } else if (t === 0xda) {
      len = (src[p + 1]! << 8) | src[p + 2]!;
      p += 3;
    } else if (t === 0xdb) {
      len = u32(src, p + 1);
      p += 5;
    } else throw new DecodeError(`envelope field ${field}: expected a string`);
    if (p + len > limit) throw new DecodeError(`frame ends inside envelope field ${field}`);
    this.#s = memo.read(src, p, len);
    return p + len;
  }

  #int(src: Uint8Array, p: number, limit: number): number {
    const t = src[p]!;
    let v: number;
    let n = 1;
    if (t < 0x80) v = t;
    else if (t >= 0xe0) v = t - 0x100;
    else if (t === 0xcc) {
      v = src[p + 1]!;
      n = 2;
    } else if (t === 0xcd) {
      v = (src[p + 1]! << 8) | src[p + 2]!;
      n = 3;
    } else if (t === 0xce) {
      v = u32(src, p + 1);
      n = 5;
    } else if (t === 0xcf) {
      v = u32(src, p + 1) * 0x100000000 + u32(src, p + 5);
      n = 9;
    } else if (t === 0xd0) {
      v = (src[p + 1]! << 24) >> 24;
      n = 2;
    } else if (t === 0xd1) {
      v = (((src[p + 1]! << 8) | src[p + 2]!) << 16) >> 16;
      n = 3;
    } else if (t === 0xd2) {
      v = u32(src, p + 1) | 0;
      n = 5;
    } else if (t === 0xcb && p + 9 <= limit) {
      v = new DataView(src.buffer, src.byteOffset + p + 1, 8).getFloat64(0);
      n = 9;
    } else throw new DecodeError('envelope field id: expected an integer');
    if (p + n > limit) throw new DecodeError('frame ends inside envelope field id');
    if (!Number.isInteger(v)) throw new DecodeError('envelope field id: expected an integer');
    this.id = v;
    return p + n;
  }
}

function u32(src: Uint8Array, p: number): number {
  return ((src[p]! << 24) >>> 0) + ((src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!);
}
