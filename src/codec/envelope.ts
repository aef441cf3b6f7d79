import { DEFAULT_MAX_MESSAGE_BYTES } from '../defaults.js';
import { Packr, Unpackr, REUSE_BUFFER_MODE, RESET_BUFFER_MODE } from 'msgpackr';
import { DecodeError, EncodeError, InvalidOptionError, MessageTooLargeError } from '../errors.js';

/** `call` is an ask made by a typed proxy: answered by the actor's `api`, not its `receive`. */
export type EnvelopeKind = 'tell' | 'ask' | 'reply' | 'error' | 'call';

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
  /** Receiving actor's id. */
  to: string;
  /** Correlation id: an ask's id, echoed by its reply; 0 for a tell. */
  id: number;
  payload: T;
  topic?: string | undefined;
  priority?: Priority | undefined;
}


// Kind codes are on the wire: a retired kind leaves its code unused (4 was 'signal') rather than renumber the rest.
const KINDS: readonly (EnvelopeKind | undefined)[] = ['tell', 'ask', 'reply', 'error', undefined, 'call'];
const KIND_CODE: Record<EnvelopeKind, number> = { tell: 0, ask: 1, reply: 2, error: 3, call: 5 };
const PRIORITIES: readonly Priority[] = ['system', 'high', 'normal'];
const PRIORITY_CODE: Record<Priority, number> = { system: 0, high: 1, normal: 2 };
const NORMAL = PRIORITY_CODE.normal;

// Wire form: the msgpack array [kind, priority, from, to, id, payload, topic?].
// An array rather than a map: no key strings on the wire, one allocation to decode.
const F_KIND = 0;
const F_PRIORITY = 1;
const F_FROM = 2;
const F_TO = 3;
const F_ID = 4;
const F_PAYLOAD = 5;
const F_TOPIC = 6;

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
 * the caller to copy where they go.
 *
 * Decoding never lets bytes choose a prototype: msgpackr renames a
 * `__proto__` key, records are off (no shared structures across threads),
 * and binary payloads are copied out of the ring, so nothing decoded aliases
 * memory the producer will reuse.
 */
export class Codec {
  readonly maxMessageBytes: number;
  readonly #packr = new Packr({ useRecords: false });
  readonly #unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });
  /** Reads what #unpackr refuses (maps with keys that are not strings, as Map): only to recover a refused frame's header. */
  readonly #lenient = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: false });
  readonly #scratch: unknown[] = [0, NORMAL, '', '', 0, null];
  readonly #range = { start: 0, end: 0 };
  #decodeScratch: Buffer = Buffer.allocUnsafeSlow(4096);
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

  /** Pack `env` into the scratch buffer (`encoded[encodedStart..encodedEnd]`); returns the size. */
  encode(env: Envelope): number {
    const a = this.#scratch;
    a[F_KIND] = KIND_CODE[env.kind];
    a[F_PRIORITY] = env.priority === undefined ? NORMAL : PRIORITY_CODE[env.priority];
    a[F_FROM] = env.from;
    a[F_TO] = env.to;
    a[F_ID] = env.id;
    a[F_PAYLOAD] = env.payload;
    if (env.topic === undefined) a.length = F_TOPIC;
    else a[F_TOPIC] = env.topic;
    if (a[F_KIND] === undefined) throw new EncodeError(`envelope to '${env.to}': unknown kind '${String(env.kind)}'`);
    if (a[F_PRIORITY] === undefined) throw new EncodeError(`envelope to '${env.to}': unknown priority '${String(env.priority)}'`);
    let out: Buffer & { start?: number; end?: number };
    try {
      // REUSE_BUFFER_MODE returns the scratch buffer itself with start/end
      // set (no subarray allocated); RESET_BUFFER_MODE rewinds it for the next pack.
      out = this.#packr.pack(a, REUSE_BUFFER_MODE | RESET_BUFFER_MODE);
    } catch (err) {
      throw new EncodeError(`message to '${env.to}' could not be encoded: ${(err as Error).message}`, { cause: err });
    } finally {
      a[F_PAYLOAD] = null;
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

  /** Encoded bytes as a fresh Uint8Array (for tests and transports that need an owned copy). */
  encodeToBytes(env: Envelope): Uint8Array {
    this.encode(env);
    return Uint8Array.prototype.slice.call(this.encoded, this.encodedStart, this.encodedEnd);
  }

  /** Decode one envelope from `bytes[offset..offset+length]`. Throws DecodeError for anything malformed. */
  decode(bytes: Uint8Array, offset: number, length: number): Envelope {
    let a: unknown;
    let src = bytes;
    if (bytes.buffer instanceof SharedArrayBuffer) {
      // Decode a private copy: msgpackr hands longer strings to its native
      // reader, which refuses shared memory and falls back only after
      // building an error (~8 µs a frame); it also judges "short" by the end
      // position in the buffer, so a frame deep in a ring always looks long.
      // A 100-byte copy costs a fraction of a microsecond.
      if (this.#decodeScratch.length < length) this.#decodeScratch = Buffer.allocUnsafeSlow(Math.max(length, this.#decodeScratch.length * 2));
      Buffer.prototype.copy.call(bytes, this.#decodeScratch, 0, offset, offset + length);
      src = this.#decodeScratch;
      offset = 0;
    }
    this.#range.start = offset;
    this.#range.end = offset + length;
    try {
      a = this.#unpackr.unpack(src, this.#range);
    } catch (err) {
      throw new DecodeError(`frame of ${length} bytes is not valid msgpack: ${(err as Error).message}`, { cause: err });
    }
    if (!Array.isArray(a) || a.length < F_TOPIC || a.length > F_TOPIC + 1) {
      throw new DecodeError(`frame of ${length} bytes is not an envelope (expected an array of 6 or 7 fields)`);
    }
    const kind = KINDS[a[F_KIND] as number];
    const priority = PRIORITIES[a[F_PRIORITY] as number];
    const from = a[F_FROM];
    const to = a[F_TO];
    const id = a[F_ID];
    const topic = a[F_TOPIC];
    if (kind === undefined) throw new DecodeError(`envelope field kind: unknown code ${String(a[F_KIND])}`);
    if (priority === undefined) throw new DecodeError(`envelope field priority: unknown code ${String(a[F_PRIORITY])}`);
    if (typeof from !== 'string') throw new DecodeError('envelope field from: expected a string');
    if (typeof to !== 'string') throw new DecodeError('envelope field to: expected a string');
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new DecodeError('envelope field id: expected an integer');
    if (topic !== undefined && typeof topic !== 'string') throw new DecodeError('envelope field topic: expected a string');
    return { kind, priority, from, to, id, payload: a[F_PAYLOAD], topic };
  }

  /**
   * Who sent a frame `decode` refused, and whether someone awaits an answer:
   * its header fields, when they can still be read (the payload is what
   * failed, say a Map with object keys), else null. Off the hot path: only
   * for frames already refused, on a private copy of their bytes.
   */
  recoverHeader(bytes: Uint8Array): EnvelopeHeader | null {
    let a: unknown;
    try {
      a = this.#lenient.unpack(bytes);
    } catch {
      return null;
    }
    if (!Array.isArray(a)) return null;
    const kind = KINDS[a[F_KIND] as number];
    const [from, to, id] = [a[F_FROM], a[F_TO], a[F_ID]];
    if (kind === undefined || typeof from !== 'string' || typeof to !== 'string' || typeof id !== 'number' || !Number.isInteger(id)) return null;
    return { kind, from, to, id };
  }
}

/** The fields of an envelope that say who sent it and what answers it. */
export type EnvelopeHeader = Pick<Envelope, 'kind' | 'from' | 'to' | 'id'>;
