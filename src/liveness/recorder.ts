/**
 * The flight recorder: an actor's last messages, as metadata (and, when asked
 * for, the first bytes of their payloads), in a block of shared memory the
 * system owns (like the liveness block), so the main thread reads them after
 * the worker died, crash included, and the next incarnation goes on writing
 * where the last one stopped.
 *
 *   Int32 0  WRITTEN   entries ever begun (the host, its only writer); entry k is at k % capacity
 *   Int32 1  CAPACITY  entries the block holds
 *   Int32 2  NAMES     names interned so far
 *   Int32 3  PAYLOAD   payload bytes each entry keeps (0: none)
 *   then CAPACITY entries of ENTRY_BYTES:
 *     Int32 0  kind | priority << 4 | (topic? 1 : 0) << 6
 *     Int32 1  the sender's name (index into the names; -1: not kept, the table was full)
 *     Int32 2  the topic's name (index; -1 when not a topic message, or not kept)
 *     Int32 3  the frame's size in bytes
 *     Int32 4  the incarnation that handled it
 *     Int32 5  SEAL: the entry's number (k) once it is whole (an older number while it is written)
 *     Float64 at byte 24  when its handler started, epoch ms
 *     Float64 at byte 32  how long the handler took, ms (-1: still running, or the incarnation died in it)
 *   then MAX_NAMES names of NAME_BYTES: a u8 length and UTF-8 (longer names are cut)
 *   then, with PAYLOAD > 0, CAPACITY payload slots of 8 + PAYLOAD bytes (rounded up to 4):
 *     Int32 0  the payload's encoded size; Int32 1  bytes kept; then the bytes
 *
 * Names (sender ids, topics) are interned: a message costs a Map lookup and
 * a few stores, no string written. A payload is packed again on its own
 * (msgpack without the ring's record structures, so the main thread can
 * decode it) and its first PAYLOAD bytes copied; with PAYLOAD 0 nothing of it
 * is touched. The host counts an entry in WRITTEN before it writes it and
 * seals it after, so a reader tells a whole entry from one a writer was
 * overwriting (live, or killed in the middle of it): such an entry is left out.
 */
import { Packr, Unpackr, REUSE_BUFFER_MODE, RESET_BUFFER_MODE } from 'msgpackr/pack';
import { DEFAULT_RECORDER_ENTRIES, MAX_RECORDER_ENTRIES, MAX_RECORDER_PAYLOAD_BYTES } from '../defaults.js';
import { InvalidOptionError } from '../errors.js';
import type { RecordedMessage, TruncatedPayload } from '../events.js';

const WRITTEN = 0;
const CAPACITY = 1;
const NAMES = 2;
const PAYLOAD = 3;
const HEADER_BYTES = 16;
const ENTRY_BYTES = 40;
/** Where an entry's Float64 fields start, bytes into it (after its five Int32 fields, 8-aligned). */
const ENTRY_F64_AT = 24;
/** The seal's Int32 index inside an entry. */
const SEAL = 5;
const MAX_NAMES = 256;
const NAME_BYTES = 64;

const KINDS = ['tell', 'ask', 'reply', 'error', 'call', 'terminated'] as const;
const PRIORITIES = ['normal', 'high', 'system'] as const;
const KIND_INDEX: Readonly<Record<string, number>> = { tell: 0, ask: 1, reply: 2, error: 3, call: 4, terminated: 5 };
const PRIORITY_INDEX: Readonly<Record<string, number>> = { normal: 0, high: 1, system: 2 };
const OTHER_KIND = 15;

export type { RecordedMessage, TruncatedPayload };

/** The `flightRecorder` option: a number of entries, or entries and the payload bytes each keeps. */
export type RecorderSetting = number | { messages?: number; payloadBytes?: number };

const entriesAt = HEADER_BYTES;
const namesAt = (capacity: number): number => HEADER_BYTES + capacity * ENTRY_BYTES;
const payloadsAt = (capacity: number): number => namesAt(capacity) + MAX_NAMES * NAME_BYTES;
/** Bytes of one payload slot: its two Int32 fields and the kept bytes, rounded up to a word. */
const payloadSlot = (payloadBytes: number): number => 8 + ((payloadBytes + 3) & ~3);

const isWhole = (n: unknown, max: number): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max;

/** A recorder block as `setting` says (null: none, with 0 entries). */
export function createRecorder(setting: RecorderSetting = DEFAULT_RECORDER_ENTRIES): SharedArrayBuffer | null {
  const object = typeof setting === 'object' && setting !== null;
  const entries = object ? (setting.messages ?? DEFAULT_RECORDER_ENTRIES) : setting;
  const payloadBytes = object ? (setting.payloadBytes ?? 0) : 0;
  if (!isWhole(entries, MAX_RECORDER_ENTRIES)) {
    throw new InvalidOptionError(object ? 'flightRecorder.messages' : 'flightRecorder', `must be a whole number of entries from 0 to ${MAX_RECORDER_ENTRIES}, got ${String(entries)}`);
  }
  if (!isWhole(payloadBytes, MAX_RECORDER_PAYLOAD_BYTES)) {
    throw new InvalidOptionError('flightRecorder.payloadBytes', `must be a whole number of bytes from 0 to ${MAX_RECORDER_PAYLOAD_BYTES}, got ${String(payloadBytes)}`);
  }
  if (entries === 0) return null;
  const sab = new SharedArrayBuffer(payloadsAt(entries) + (payloadBytes > 0 ? entries * payloadSlot(payloadBytes) : 0));
  const header = new Int32Array(sab, 0, 4);
  header[CAPACITY] = entries;
  header[PAYLOAD] = payloadBytes;
  return sab;
}

// Payloads are packed self-contained (no record structures) and decoded as the codec does: a `__proto__` key is renamed, never a prototype; 64-bit integers read as strings (JSON has no BigInt).
const packr = new Packr({ useRecords: false });
const EMPTY = Buffer.alloc(0);
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true, int64AsType: 'string' });

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The host's side: one entry per message handled. */
export class RecorderWriter {
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #u8: Uint8Array;
  readonly #capacity: number;
  readonly #names = new Map<string, number>();
  readonly #incarnation: number;
  /** Payload bytes each entry keeps (0: payloads are not touched). */
  readonly #payloadBytes: number;
  /** Index of the entry being written (its handler runs), -1 when none. */
  #open = -1;

  constructor(buffer: SharedArrayBuffer, incarnation: number) {
    this.#i32 = new Int32Array(buffer);
    this.#f64 = new Float64Array(buffer);
    this.#u8 = new Uint8Array(buffer);
    this.#capacity = this.#i32[CAPACITY]!;
    this.#incarnation = incarnation;
    this.#payloadBytes = this.#i32[PAYLOAD]!;
    // An earlier incarnation's names are kept: the next entries go on using them.
    const base = namesAt(this.#capacity);
    const n = Atomics.load(this.#i32, NAMES);
    for (let k = 0; k < n; k++) {
      const at = base + k * NAME_BYTES;
      this.#names.set(decoder.decode(this.#u8.subarray(at + 1, at + 1 + this.#u8[at]!)), k);
    }
  }

  #name(s: string): number {
    // The inbox hands out one string per sender (its header memo): the last one seen is compared first, no Map lookup.
    if (s === this.#lastName) return this.#lastIndex;
    const k = this.#lookup(s);
    this.#lastName = s;
    this.#lastIndex = k;
    return k;
  }

  #lastName = '';
  #lastIndex = -1;

  #lookup(s: string): number {
    const known = this.#names.get(s);
    if (known !== undefined) return known;
    const k = Atomics.load(this.#i32, NAMES);
    if (k >= MAX_NAMES) return -1;
    const at = namesAt(this.#capacity) + k * NAME_BYTES;
    // Cut at a character, not inside one.
    let cut = s;
    let bytes = encoder.encode(cut);
    while (bytes.length > NAME_BYTES - 1) bytes = encoder.encode((cut = cut.slice(0, -1)));
    this.#u8[at] = bytes.length;
    this.#u8.set(bytes, at + 1);
    Atomics.store(this.#i32, NAMES, k + 1);
    this.#names.set(s, k);
    return k;
  }

  /** A handler starts on this message (`payload`: kept only when the block keeps payloads). */
  begin(kind: string, priority: string | undefined, from: string, topic: string | undefined, bytes: number, at: number, payload?: unknown): void {
    const written = this.#i32[WRITTEN]!;
    const e = written % this.#capacity;
    const i = (entriesAt + e * ENTRY_BYTES) >> 2;
    const i32 = this.#i32;
    // Claimed first: the entry this one overwrites is out of the readers' range, and this one is not sealed yet.
    Atomics.store(i32, WRITTEN, written + 1);
    i32[i] = (KIND_INDEX[kind] ?? OTHER_KIND) | ((priority === undefined ? 0 : (PRIORITY_INDEX[priority] ?? 0)) << 4) | (topic === undefined ? 0 : 1 << 6);
    i32[i + 1] = this.#name(from);
    i32[i + 2] = topic === undefined ? -1 : this.#name(topic);
    i32[i + 3] = bytes;
    i32[i + 4] = this.#incarnation;
    const f = (entriesAt + e * ENTRY_BYTES + ENTRY_F64_AT) >> 3;
    this.#f64[f] = at;
    this.#f64[f + 1] = -1;
    this.#open = f + 1;
    if (this.#payloadBytes > 0) this.#keep(e, payload);
    // Sealed last: a reader takes the entry once it is whole.
    i32[i + SEAL] = written;
  }

  /** Entry `e`'s payload slot: the payload's encoded size and its first bytes. */
  #keep(e: number, payload: unknown): void {
    const at = payloadsAt(this.#capacity) + e * payloadSlot(this.#payloadBytes);
    let start = 0;
    let size = -1;
    let out: Buffer & { start?: number; end?: number } = EMPTY;
    try {
      // Into msgpackr's scratch buffer, as the codec packs (no buffer allocated per message).
      out = packr.pack(payload, REUSE_BUFFER_MODE | RESET_BUFFER_MODE);
      start = out.start ?? 0;
      size = (out.end ?? out.length) - start;
    } catch {
      // Not encodable again (a decoded payload always is): kept as nothing, size -1.
    }
    const kept = Math.max(0, Math.min(size, this.#payloadBytes));
    this.#i32[at >> 2] = size;
    this.#i32[(at >> 2) + 1] = kept;
    this.#u8.set(out.subarray(start, start + kept), at + 8);
  }

  /** The handler of the message last begun returned after `ms`. */
  end(ms: number): void {
    if (this.#open < 0) return;
    this.#f64[this.#open] = ms;
    this.#open = -1;
  }
}

/** The last messages in `buffer`, oldest first (at most its capacity). */
export function readRecorder(buffer: SharedArrayBuffer | null): RecordedMessage[] {
  if (!buffer) return [];
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);
  const u8 = new Uint8Array(buffer);
  const capacity = i32[CAPACITY]!;
  const written = Atomics.load(i32, WRITTEN);
  const names: string[] = [];
  const n = Atomics.load(i32, NAMES);
  for (let k = 0; k < n; k++) {
    const at = namesAt(capacity) + k * NAME_BYTES;
    names.push(decoder.decode(u8.slice(at + 1, at + 1 + u8[at]!)));
  }
  const payloadBytes = i32[PAYLOAD]!;
  const out: RecordedMessage[] = [];
  for (let w = Math.max(0, written - capacity); w < written; w++) {
    const e = w % capacity;
    const i = (entriesAt + e * ENTRY_BYTES) >> 2;
    const f = (entriesAt + e * ENTRY_BYTES + ENTRY_F64_AT) >> 3;
    // Read between two looks at the seal and the count: an entry a writer is overwriting (or was, when it was killed) is left out.
    if (Atomics.load(i32, i + SEAL) !== w) continue;
    const head = i32[i]!;
    const handlerMs = f64[f + 1]!;
    const m: RecordedMessage = {
      kind: KINDS[head & 15] ?? 'other',
      priority: PRIORITIES[(head >> 4) & 3] ?? 'normal',
      from: names[i32[i + 1]!] ?? null,
      bytes: i32[i + 3]!,
      incarnation: i32[i + 4]!,
      at: f64[f]!,
      handlerMs: handlerMs < 0 ? null : Math.round(handlerMs * 1000) / 1000,
    };
    if ((head >> 6) & 1) m.topic = names[i32[i + 2]!] ?? null;
    const kept = payloadBytes > 0 ? keptPayload(i32, u8, payloadsAt(capacity) + e * payloadSlot(payloadBytes)) : null;
    if (Atomics.load(i32, i + SEAL) !== w || Atomics.load(i32, WRITTEN) - capacity > w) continue;
    if (kept !== null) m.payload = decodeKept(kept.bytes, kept.size);
    out.push(m);
  }
  return out;
}

/** A payload slot's encoded size and a copy of its kept bytes (at most the slot's length, whatever the count reads). */
function keptPayload(i32: Int32Array, u8: Uint8Array, at: number): { size: number; bytes: Uint8Array } {
  const size = i32[at >> 2]!;
  const kept = Math.max(0, Math.min(i32[(at >> 2) + 1]!, i32[PAYLOAD]!));
  return { size, bytes: u8.slice(at + 8, at + 8 + kept) };
}

/** The payload when its whole encoding was kept and decodes; otherwise what was kept of it. */
function decodeKept(bytes: Uint8Array, size: number): unknown {
  if (bytes.length === size) {
    try {
      // `undefined` (a tell without a payload) reads as null, as it would in JSON.
      return unpackr.unpack(bytes) ?? null;
    } catch {
      // Not one whole value after all: shown as bytes.
    }
  }
  const cut: TruncatedPayload = { truncated: true, bytes: Buffer.from(bytes).toString('base64'), size };
  return cut;
}
