import { isMainThread } from 'node:worker_threads';
import { Codec, type Envelope } from '../codec/envelope.js';
import { InvalidOptionError, RingCorruptError, DecodeError } from '../errors.js';
import { Doorbell, type ParkResult } from '../ring/doorbell.js';
import { RingReader } from '../ring/ring.js';

/** Frames taken from one sender before the next sender gets a turn. */
export const DEFAULT_FAIR_BATCH = 32;
/**
 * How long an idle consumer keeps spinning before it parks, in microseconds.
 * Waking a parked thread costs ~40-50 µs here; spinning this long after the
 * last frame keeps a steady stream (10k msg/s arrive every 100 µs) on the
 * fast path, while an idle consumer parks and uses no CPU.
 */
export const DEFAULT_SPIN_MICROS = 200;

export interface InboxOptions {
  /** Frames taken from one sender per turn; default DEFAULT_FAIR_BATCH. */
  fairBatch?: number;
  /** Spin budget before parking, µs; default DEFAULT_SPIN_MICROS (0 = park at once). */
  spinMicros?: number;
  codec?: Codec;
  /** A sender's ring turned out corrupt: it is detached, the others go on. */
  onRingCorrupt?: (slot: number, err: RingCorruptError) => void;
  /** A frame was not a valid envelope: it is released (never retried) and handed here with its raw bytes. */
  onUndecodable?: (slot: number, err: DecodeError, raw: Uint8Array) => void;
}

export type FrameHandler = (bytes: Buffer, offset: number, length: number, slot: number) => void;
export type EnvelopeHandler = (env: Envelope, slot: number) => void;

/**
 * The receiving side of one thread: one SPSC ring per sender and one
 * doorbell. Senders never share a ring, so a sender that dies mid-write
 * cannot block or corrupt what the others deliver.
 */
export class Inbox {
  readonly doorbell: Doorbell;
  readonly #readers: (RingReader | null)[];
  readonly #fairBatch: number;
  readonly #spinMs: number;
  readonly #codec: Codec;
  readonly #onRingCorrupt: InboxOptions['onRingCorrupt'];
  readonly #onUndecodable: InboxOptions['onUndecodable'];
  /** Slots that still had frames after their turn, in the order they get the next one. */
  #carry: number[] = [];
  #envHandler: EnvelopeHandler | null = null;
  readonly #decodeFrame: FrameHandler = (bytes, offset, length, slot) => {
    let env: Envelope;
    try {
      env = this.#codec.decode(bytes, offset, length);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      const raw = Uint8Array.prototype.slice.call(bytes, offset, offset + length);
      if (this.#onUndecodable) this.#onUndecodable(slot, err, raw);
      return;
    }
    this.#envHandler!(env, slot);
  };

  constructor(doorbell: SharedArrayBuffer, options: InboxOptions = {}) {
    this.doorbell = new Doorbell(doorbell);
    this.#readers = new Array<RingReader | null>(this.doorbell.senderSlots).fill(null);
    this.#fairBatch = positiveInt('inbox.fairBatch', options.fairBatch ?? DEFAULT_FAIR_BATCH);
    const spin = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    if (!(spin >= 0)) throw new InvalidOptionError('inbox.spinMicros', `must be a number ≥ 0, got ${spin}`);
    this.#spinMs = spin / 1000;
    this.#codec = options.codec ?? new Codec();
    this.#onRingCorrupt = options.onRingCorrupt;
    this.#onUndecodable = options.onUndecodable;
  }

  /** Start reading a sender's ring in `slot`. Frames already in it are delivered. */
  attach(slot: number, ring: SharedArrayBuffer): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#readers.length) {
      throw new InvalidOptionError('inbox.attach slot', `must be 0..${this.#readers.length - 1}, got ${slot}`);
    }
    this.#readers[slot] = new RingReader(ring);
    this.doorbell.markReady(slot);
  }

  detach(slot: number): void {
    this.#readers[slot] = null;
  }

  get senders(): number {
    let n = 0;
    for (const r of this.#readers) if (r) n++;
    return n;
  }

  /** Messages waiting across all senders. */
  depth(): number {
    let n = 0;
    for (const r of this.#readers) if (r) n += r.depth();
    return n;
  }

  /**
   * Hand every waiting frame, up to `max`, to `fn`, taking at most
   * `fairBatch` from one sender before moving to the next. Returns how many.
   */
  drainFrames(max: number, fn: FrameHandler): number {
    let n = 0;
    while (n < max) {
      const got = this.#pass(max - n, fn);
      if (got === 0) break;
      n += got;
    }
    return n;
  }

  /** One round: every sender with frames gets one turn, those left over from the last round first. */
  #pass(max: number, fn: FrameHandler): number {
    let n = 0;
    const carried = this.#carry;
    this.#carry = [];
    for (const slot of carried) {
      if (n < max) n += this.#turn(slot, max - n, fn);
      else this.#carry.push(slot);
    }
    for (let w = 0, words = this.doorbell.readyWords; w < words; w++) {
      let bits = this.doorbell.takeReadyWord(w);
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const slot = (w << 5) | b;
        if (n < max) n += this.#turn(slot, max - n, fn);
        else this.#carry.push(slot);
      }
      if (n >= max) break;
    }
    return n;
  }

  /** Like drainFrames, decoding each frame into an Envelope. */
  drain(max: number, fn: EnvelopeHandler): number {
    this.#envHandler = fn;
    try {
      return this.drainFrames(max, this.#decodeFrame);
    } finally {
      this.#envHandler = null;
    }
  }

  /** True when some sender has rung and not been drained yet. */
  hasWork(): boolean {
    return this.#carry.length > 0 || this.doorbell.anyReady();
  }

  /** Worker threads: spin up to the budget, then block until a sender rings or `timeoutMs` passes. */
  waitForWork(timeoutMs: number): ParkResult {
    if (this.#spin()) return 'ready';
    return this.doorbell.park(timeoutMs);
  }

  /** Any thread: spin (workers only), then wait without blocking the event loop. */
  async waitForWorkAsync(timeoutMs: number): Promise<ParkResult> {
    if (!isMainThread && this.#spin()) return 'ready';
    if (this.#carry.length > 0) return 'ready';
    return this.doorbell.parkAsync(timeoutMs);
  }

  #spin(): boolean {
    if (this.hasWork()) return true;
    if (this.#spinMs <= 0) return false;
    const until = performance.now() + this.#spinMs;
    do {
      // Check the bitmap a few times between clock reads: a clock read costs
      // more than a bitmap load.
      for (let i = 0; i < 64; i++) if (this.doorbell.anyReady()) return true;
    } while (performance.now() < until);
    return false;
  }

  #turn(slot: number, budget: number, fn: FrameHandler): number {
    const reader = this.#readers[slot];
    if (!reader) return 0; // rung before its ring was attached: attach() marks it ready again
    const take = budget < this.#fairBatch ? budget : this.#fairBatch;
    let n = 0;
    try {
      n = reader.drain(take, (bytes, offset, length) => fn(bytes, offset, length, slot));
    } catch (err) {
      if (!(err instanceof RingCorruptError)) {
        // The handler threw: the frame stays in the ring; keep the sender's turn.
        this.#carry.push(slot);
        throw err;
      }
      this.#readers[slot] = null;
      if (this.#onRingCorrupt) this.#onRingCorrupt(slot, err);
      else throw err;
      return n;
    }
    if (n === take) this.#carry.push(slot);
    return n;
  }
}

function positiveInt(path: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(path, `must be a positive integer, got ${v}`);
  return v;
}
