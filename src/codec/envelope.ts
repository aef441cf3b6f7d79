import { DEFAULT_MAX_MESSAGE_BYTES } from '../defaults.js';
import { Packr, Unpackr, REUSE_BUFFER_MODE, RESET_BUFFER_MODE, RESERVE_START_SPACE } from 'msgpackr/pack';
import { DecodeError, EncodeError, InvalidOptionError, MessageTooLargeError } from '../errors.js';
import { copyFrameBytes } from './bytes.js';
import { HeaderReader, HeaderWriter, StringMemo } from './header.js';
import type { RecordDecoder, RecordEncoder } from './records.js';

/**
 * `call` is an ask made by a typed proxy: answered by the actor's `api`, not its `receive`.
 * `terminated` is the main thread's notice that an actor the receiver watches has ended: its `onTerminated` handles it.
 */
export type EnvelopeKind = 'tell' | 'ask' | 'reply' | 'error' | 'call' | 'terminated';

/** Kinds whose sender waits for a reply (so a message that cannot be handled must settle it). */
export function expectsReply(kind: EnvelopeKind): boolean {
  return kind === 'ask' || kind === 'call';
}

/** Inbox lanes, most urgent first. */
export type Priority = 'system' | 'high' | 'normal';

export interface Envelope<T = unknown> {
  kind: EnvelopeKind;
  /** Sending actor's id ('' for the system itself). */
  from: string;
  /** Receiving actor's id. Not on the wire: the receiver fills in its own. */
  to: string;
  /** Correlation id: an ask's id, echoed by its reply; 0 for a tell. */
  id: number;
  payload: T;
  topic?: string | undefined;
  priority?: Priority | undefined;
  /**
   * W3C trace context of the sender's active span, `traceparent` then, when
   * there is one, a newline and `tracestate`. Set only while tracing is on
   * (trace/): without it, a frame has no trace field at all.
   */
  trace?: string | undefined;
}


// Kind codes are on the wire: a retired kind leaves its code unused (4 was 'signal') rather than renumber the rest.
const KINDS: readonly (EnvelopeKind | undefined)[] = ['tell', 'ask', 'reply', 'error', undefined, 'call', 'terminated', undefined];
const KIND_CODE: Record<EnvelopeKind, number> = { tell: 0, ask: 1, reply: 2, error: 3, call: 5, terminated: 6 };
const PRIORITIES: readonly (Priority | undefined)[] = ['system', 'high', 'normal', undefined];
const PRIORITY_CODE: Record<Priority, number> = { system: 0, high: 1, normal: 2 };
const NORMAL = PRIORITY_CODE.normal;

// Wire form: the msgpack array [head, from, id, topic?, payload].
// An array rather than a map: no key strings on the wire. Everything before the
// payload is the header, written and read by hand (codec/header.ts); msgpackr
// packs and unpacks the payload.
// `to` is not on the wire: a ring leads to one inbox, whose reader fills it in.
// With a trace context: [head, from, id, topic | nil, trace, payload], packed
// whole by msgpackr (a traced send is not the hot path the hand-written header is for).
// head = kind | priority << 3 | RECORDS: one positive fixint byte, right after the
// array's own byte, so the decoder knows which unpacker to use before it unpacks.
const F_HEAD = 0;
const F_FROM = 1;
const F_ID = 2;
const KIND_MASK = 0x07;
const PRIORITY_SHIFT = 3;
/** The payload may hold records of its ring's structure table (codec/records.ts). */
const RECORDS = 0x20;
/** fixarray of 4 and of 5 elements. */
const ARRAY_4 = 0x94;
const ARRAY_5 = 0x95;
const ARRAY_6 = 0x96;

export interface CodecOptions {
  /** Largest encoded message accepted at send, in bytes. Default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}

/**
 * Encodes and decodes envelopes with msgpackr; knows nothing of rings
 * (transport/frames.ts writes what it encodes into one).
 *
 * Messages are packed into msgpackr's own reusable scratch buffer: `encode`
 * allocates nothing per message and leaves the bytes in
 * `encoded[encodedStart..encodedEnd]`, checked against the size limit, for
 * the caller to copy where they go. With a ring's RecordEncoder, objects are
 * packed as records of that ring's structures; without one, the frame is
 * self-contained and can go into any ring (a publish to many, a queued copy).
 *
 * Decoding never lets bytes choose a prototype: msgpackr renames a
 * `__proto__` key (in maps and in record structures alike), a record id the
 * ring's table does not hold is an error, and binary payloads are copied out
 * of the ring, so nothing decoded aliases memory the producer will reuse.
 */
export class Codec {
  readonly maxMessageBytes: number;
  readonly #packr = new Packr({ useRecords: false });
  readonly #unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });
  readonly #scratch: unknown[] = [0, '', 0, null];
  readonly #range = { start: 0, end: 0 };
  readonly #writer = new HeaderWriter();
  readonly #reader = new HeaderReader();
  /** The last sender's id read, for frames read without a ring's own memo. */
  readonly #from = new StringMemo();
  #decodeScratch: Buffer = Buffer.allocUnsafeSlow(4096);
  readonly #peeker = new HeaderReader();
  readonly #peekFrom = new StringMemo();
  /** Byte range of the last `encode` inside `encoded`; valid until the next call. */
  encodedStart = 0;
  encodedEnd = 0;
  encoded: Buffer = Buffer.alloc(0);

  constructor(options: CodecOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(max) || max < 16) {
      throw new InvalidOptionError('codec.maxMessageBytes', `must be an integer of at least 16, got ${max}`);
    }
    this.maxMessageBytes = max;
  }

  /**
   * Pack `env` into the scratch buffer (`encoded[encodedStart..encodedEnd]`);
   * returns the size. With `records`, the frame is for that encoder's ring only.
   */
  encode(env: Envelope, records: RecordEncoder | null = null): number {
    const kind = KIND_CODE[env.kind];
    const priority = env.priority === undefined ? NORMAL : PRIORITY_CODE[env.priority];
    if (kind === undefined) throw new EncodeError(`envelope to '${env.to}': unknown kind '${String(env.kind)}'`);
    if (priority === undefined) throw new EncodeError(`envelope to '${env.to}': unknown priority '${String(env.priority)}'`);
    const head = kind | (priority << PRIORITY_SHIFT) | (records ? RECORDS : 0);
    const packr = records ? records.packr : this.#packr;
    const header = env.trace === undefined ? this.#writer.size(env.from, env.id, env.topic) : -1;
    let out: Buffer & { start?: number; end?: number };
    try {
      // REUSE_BUFFER_MODE returns the scratch buffer itself with start/end
      // set (no subarray allocated); RESET_BUFFER_MODE rewinds it for the next pack.
      if (header > 0) {
        // The header's bytes are reserved ahead of the payload and written by hand.
        out = packr.pack(env.payload, REUSE_BUFFER_MODE | RESET_BUFFER_MODE | RESERVE_START_SPACE | header);
        this.#writer.write(out, out.start ?? 0, head, env.id, env.topic !== undefined);
      } else out = packr.pack(this.#array(head, env), REUSE_BUFFER_MODE | RESET_BUFFER_MODE);
    } catch (err) {
      throw new EncodeError(`message to '${env.to}' could not be encoded: ${(err as Error).message}`, { cause: err });
    } finally {
      this.#scratch.length = 0;
    }
    this.encoded = out;
    this.encodedStart = out.start ?? 0;
    this.encodedEnd = out.end ?? out.length;
    const size = this.encodedEnd - this.encodedStart;
    if (size > this.maxMessageBytes) {
      throw new MessageTooLargeError(size, this.maxMessageBytes, `message to '${env.to}' (maxMessageBytes)`);
    }
    return size;
  }

  /** Encoded bytes as a fresh, self-contained Uint8Array (for queued copies and tests). */
  encodeToBytes(env: Envelope): Uint8Array {
    this.encode(env);
    return Uint8Array.prototype.slice.call(this.encoded, this.encodedStart, this.encodedEnd);
  }

  /**
   * Decode one envelope from `bytes[offset..offset+length]`, sent to `to`
   * (the owner of the inbox it was read from), with the records of its ring.
   * Throws DecodeError for anything malformed.
   */
  decode(bytes: Uint8Array, offset: number, length: number, to: string, records: RecordDecoder | null = null): Envelope {
    const head = this.#head(bytes, offset, length);
    let unpackr = this.#unpackr;
    if ((head & RECORDS) !== 0) {
      if (!records) throw new DecodeError(`frame of ${length} bytes uses record structures, and its ring has none`);
      unpackr = records.current();
    }
    let a: unknown;
    let src = bytes;
    if (bytes.buffer instanceof SharedArrayBuffer) {
      // Decode a private copy: msgpackr hands longer strings to its native
      // reader, which refuses shared memory and falls back only after
      // building an error (~8 µs a frame); it also judges "short" by the end
      // position in the buffer, so a frame deep in a ring always looks long.
      // A 100-byte copy costs ~30 ns (copyFrameBytes; room for its rounding up is kept).
      if (this.#decodeScratch.length < length + 4) this.#decodeScratch = Buffer.allocUnsafeSlow(Math.max(length + 4, this.#decodeScratch.length * 2));
      copyFrameBytes(bytes, offset, this.#decodeScratch, 0, length);
      src = this.#decodeScratch;
      offset = 0;
    }
    const kind = KINDS[head & KIND_MASK];
    const priority = PRIORITIES[(head >> PRIORITY_SHIFT) & 3];
    if (kind === undefined) throw new DecodeError(`envelope field kind: unknown code ${head & KIND_MASK}`);
    if (priority === undefined) throw new DecodeError(`envelope field priority: unknown code ${(head >> PRIORITY_SHIFT) & 3}`);
    if (!Buffer.isBuffer(src)) src = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    const h = this.#reader;
    h.read(src, offset, offset + length, records ? records.from : this.#from);
    this.#range.start = h.end;
    this.#range.end = offset + length;
    try {
      a = unpackr.unpack(src, this.#range);
    } catch (err) {
      throw new DecodeError(`frame of ${length} bytes is not valid msgpack: ${(err as Error).message}`, { cause: err });
    }
    if (h.trace !== undefined) return { kind, priority, from: h.from, to, id: h.id, payload: a, topic: h.topic, trace: h.trace };
    return { kind, priority, from: h.from, to, id: h.id, payload: a, topic: h.topic };
  }

  /**
   * A frame `decode` refused, read leniently with its ring's records: who
   * sent it and whether someone awaits an answer (null when even that cannot
   * be read), and its bytes as a self-contained frame (records spelled out
   * as maps) where they could be read, else as they were. Off the hot path.
   */
  recover(bytes: Uint8Array, offset: number, length: number, records: RecordDecoder | null = null): { header: EnvelopeHeader | null; raw: Uint8Array } {
    const copy = Buffer.from(Uint8Array.prototype.slice.call(bytes, offset, offset + length));
    const h = new HeaderReader();
    let head: number;
    try {
      head = this.#head(copy, 0, length);
      h.read(copy, 0, length, new StringMemo());
    } catch {
      return { header: null, raw: copy };
    }
    const kind = KINDS[head & KIND_MASK];
    if (kind === undefined) return { header: null, raw: copy };
    const header: EnvelopeHeader = { kind, from: h.from, id: h.id };
    if ((head & RECORDS) === 0 || !records) return { header, raw: copy };
    try {
      const payload: unknown = records.lenient().unpack(copy, { start: h.end, end: length });
      const env = { kind, from: h.from, to: '', id: h.id, topic: h.topic, trace: h.trace, payload };
      return { header, raw: Uint8Array.prototype.slice.call(this.#packr.pack(this.#array(head & ~RECORDS, env))) };
    } catch {
      return { header, raw: copy }; // keep the bytes as they came
    } finally {
      this.#scratch.length = 0;
    }
  }

  /**
   * The header of the frame in `bytes[offset..offset+length]` — kind,
   * priority, sender, id, topic, trace, whether it uses a ring's records —
   * read by hand without unpacking the payload: for a node that passes a
   * frame on as it is (the receiver's inbox decodes it, bounded and
   * prototype-safe, payload and all). Throws DecodeError when the header is
   * not an envelope's; the payload's bytes are not looked at.
   */
  peek(bytes: Uint8Array, offset: number, length: number): FrameHead {
    const head = this.#head(bytes, offset, length);
    const kind = KINDS[head & KIND_MASK];
    const priority = PRIORITIES[(head >> PRIORITY_SHIFT) & 3];
    if (kind === undefined) throw new DecodeError(`envelope field kind: unknown code ${head & KIND_MASK}`);
    if (priority === undefined) throw new DecodeError(`envelope field priority: unknown code ${(head >> PRIORITY_SHIFT) & 3}`);
    const src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const h = this.#peeker;
    h.read(src, offset, offset + length, this.#peekFrom);
    return { kind, priority, from: h.from, id: h.id, topic: h.topic, trace: h.trace, records: (head & RECORDS) !== 0 };
  }

  /** The envelope as the msgpack array msgpackr packs whole (a header too long to write by hand). */
  #array(head: number, env: Envelope): unknown[] {
    const a = this.#scratch;
    a[F_HEAD] = head;
    a[F_FROM] = env.from;
    a[F_ID] = env.id;
    if (env.trace !== undefined) {
      a[3] = env.topic ?? null;
      a[4] = env.trace;
      a[5] = env.payload;
    } else if (env.topic === undefined) a[3] = env.payload;
    else {
      a[3] = env.topic;
      a[4] = env.payload;
    }
    return a;
  }

  /** The head byte of a frame, checked to be an envelope's: an array of 4 or 5 starting with a small integer. */
  #head(bytes: Uint8Array, offset: number, length: number): number {
    const arr = length >= 2 ? bytes[offset]! : 0;
    const head = length >= 2 ? bytes[offset + 1]! : 0xff;
    if ((arr !== ARRAY_4 && arr !== ARRAY_5 && arr !== ARRAY_6) || head >= 0x40) {
      throw new DecodeError(`frame of ${length} bytes is not an envelope (expected an array of 4 to 6 fields, the first a small integer)`);
    }
    return head;
  }
}

/** What `peek` reads of a frame: its envelope but the payload (and `to`, which the wire leaves out), and whether it uses a ring's records. */
export type FrameHead = Omit<Envelope, 'to' | 'payload'> & { priority: Priority; records: boolean };

/** The fields of an envelope that say who sent it and what answers it. */
export type EnvelopeHeader = Pick<Envelope, 'kind' | 'from' | 'id'>;
