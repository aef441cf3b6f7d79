import { isMainThread } from 'node:worker_threads';
import { DEFAULT_SPIN_MICROS } from '../defaults.js';
import { Codec, type Envelope } from '../codec/envelope.js';
import { InvalidOptionError, RingCorruptError, DecodeError } from '../errors.js';
import { Doorbell, type ParkResult } from '../ring/doorbell.js';
import { RingReader } from '../ring/ring.js';
import { MailboxGate } from './mailbox.js';
import { countedLane, type Lane } from './protocol.js';

/** Frames taken from one sender before the next sender gets a turn. */
export const DEFAULT_FAIR_BATCH = 32;

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
  /** `drop-oldest` mailbox over its bound: this message was shed unhandled (dead-letter it). */
  onShed?: (env: Envelope) => void;
}

/** Index of each lane's round-robin queue, most urgent first. */
const LANE_INDEX: Record<Lane, number> = { system: 0, high: 1, normal: 2, reply: 3 };
const MAIL_QUEUES = [0, 1, 2] as const;
const ALL_QUEUES = [0, 1, 2, 3] as const;
const REPLY_QUEUE = [3] as const;

export type FrameHandler = (bytes: Buffer, offset: number, length: number, slot: number) => void;
export type EnvelopeHandler = (env: Envelope, slot: number) => void;

/**
 * The receiving side of one thread: one SPSC ring per sender and lane, and
 * one doorbell. Senders never share a ring, so a sender that dies mid-write
 * cannot block or corrupt what the others deliver.
 *
 * Senders with frames wait in a round-robin queue per lane; each gets a
 * bounded turn (`fairBatch` frames, or one message for `nextMail`) before the
 * next, so a busy sender cannot starve a slow one. `nextMail` serves the
 * `system` lane first, then `high`, then `normal`: a high message waits for
 * at most the message being handled.
 */
export class Inbox {
  readonly doorbell: Doorbell;
  readonly #readers: (RingReader | null)[];
  readonly #lanes: Lane[];
  /** The mailbox bound senders apply; the inbox counts messages out of it. */
  readonly gate: MailboxGate;
  readonly #onShed: InboxOptions['onShed'];
  readonly #fairBatch: number;
  readonly #spinMs: number;
  readonly #codec: Codec;
  readonly #onRingCorrupt: InboxOptions['onRingCorrupt'];
  readonly #onUndecodable: InboxOptions['onUndecodable'];
  /** Round-robin queues (one per lane) of slots that may hold frames; `#queued[slot]` = 1 while a slot is in one. */
  readonly #queues: number[][] = [[], [], [], []];
  readonly #queued: Uint8Array;
  /** Slot of the mail message handed out by `nextMail` and not yet released, or -1. */
  #inFlight = -1;
  /** Work was taken since the consumer last parked: only then is spinning worth a core. */
  #busySincePark = false;
  #envHandler: EnvelopeHandler | null = null;
  readonly #decodeFrame: FrameHandler = (bytes, offset, length, slot) => {
    const env = this.#decode(bytes, offset, length, slot);
    if (env) this.#envHandler!(env, slot);
  };

  constructor(doorbell: SharedArrayBuffer, options: InboxOptions = {}) {
    this.doorbell = new Doorbell(doorbell);
    this.gate = new MailboxGate(doorbell);
    this.#onShed = options.onShed;
    this.#readers = new Array<RingReader | null>(this.doorbell.senderSlots).fill(null);
    this.#lanes = new Array<Lane>(this.doorbell.senderSlots).fill('normal');
    this.#queued = new Uint8Array(this.doorbell.senderSlots);
    this.#fairBatch = positiveInt('inbox.fairBatch', options.fairBatch ?? DEFAULT_FAIR_BATCH);
    const spin = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    if (!(spin >= 0)) throw new InvalidOptionError('inbox.spinMicros', `must be a number ≥ 0, got ${spin}`);
    this.#spinMs = spin / 1000;
    this.#codec = options.codec ?? new Codec();
    this.#onRingCorrupt = options.onRingCorrupt;
    this.#onUndecodable = options.onUndecodable;
  }

  /** Start reading a sender's ring in `slot`. Frames already in it are delivered. */
  attach(slot: number, ring: SharedArrayBuffer, lane: Lane = 'normal'): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#readers.length) {
      throw new InvalidOptionError('inbox.attach slot', `must be 0..${this.#readers.length - 1}, got ${slot}`);
    }
    this.#readers[slot] = new RingReader(ring);
    if (this.#queued[slot] === 1 && this.#lanes[slot] !== lane) {
      // Rung before it was attached, it was queued under the default lane: move it to its own,
      // or a reply would sit among the mail where drainReplies never looks.
      const q = this.#queues[LANE_INDEX[this.#lanes[slot]!]]!;
      q.splice(q.indexOf(slot), 1);
      this.#queues[LANE_INDEX[lane]]!.push(slot);
    }
    this.#lanes[slot] = lane;
    // Ring, not just mark: a sender may have rung before the ring was
    // attached, and this thread may be parked right now.
    this.doorbell.ring(slot);
  }

  detach(slot: number): void {
    this.#readers[slot] = null;
  }

  get senders(): number {
    let n = 0;
    for (const r of this.#readers) if (r) n++;
    return n;
  }

  /** Messages waiting across all senders (of one lane, if given). */
  depth(lane?: Lane): number {
    let n = 0;
    for (let s = 0; s < this.#readers.length; s++) {
      const r = this.#readers[s];
      if (r && (lane === undefined || this.#lanes[s] === lane)) n += r.depth();
    }
    return n;
  }

  /**
   * Hand every waiting frame of every lane, up to `max`, to `fn`, taking at
   * most `fairBatch` from one sender per turn. Returns how many.
   */
  drainFrames(max: number, fn: FrameHandler): number {
    return this.#drain(max, fn, ALL_QUEUES);
  }

  /** Like drainFrames, decoding each frame into an Envelope; only `lane`'s rings when given. */
  drain(max: number, fn: EnvelopeHandler, lane: Lane | null = null): number {
    return this.#withEnvHandler(fn, () => this.#drain(max, this.#decodeFrame, lane === null ? ALL_QUEUES : [LANE_INDEX[lane]]));
  }

  /** Drain the mail lanes (system, high, normal, in that order), not the replies. */
  drainMail(max: number, fn: EnvelopeHandler): number {
    return this.#withEnvHandler(fn, () => this.#drain(max, this.#decodeFrame, MAIL_QUEUES));
  }

  /** Drain only the reply lane: answers to this thread's own asks, taken aside from its mail. */
  drainReplies(fn: EnvelopeHandler): number {
    return this.#withEnvHandler(fn, () => this.#drain(Infinity, this.#decodeFrame, REPLY_QUEUE));
  }

  /**
   * The next mail message, one sender's turn at a time, without releasing it:
   * it stays in its ring until `releaseMail()`, so a thread that dies while
   * handling it leaves it for the next reader of the ring.
   */
  nextMail(): Envelope | null {
    if (this.#inFlight >= 0) throw new InvalidOptionError('inbox.nextMail', 'called again before releaseMail()');
    this.#collect();
    for (const lane of MAIL_QUEUES) {
      const q = this.#queues[lane]!;
      while (q.length > 0) {
        const slot = q[0]!;
        const reader = this.#readers[slot];
        if (!reader || !this.#next(reader, slot)) {
          this.#unqueue(lane, 0);
          continue;
        }
        const env = this.#decode(reader.bytes, reader.offset, reader.length, slot);
        if (!env) {
          this.#commit(reader, slot);
          continue;
        }
        if (this.#onShed && lane !== LANE_INDEX.system && this.gate.excess() > 0 && this.gate.overflow === 'drop-oldest') {
          // Over the bound: the oldest message makes room for the newest.
          this.#commit(reader, slot);
          this.#onShed(env);
          continue;
        }
        // Round robin: this sender goes to the back of its lane's queue.
        q.shift();
        q.push(slot);
        this.#inFlight = slot;
        this.#busySincePark = true;
        return env;
      }
    }
    return null;
  }

  /** Ring slot of the message `nextMail` handed out and not yet released (-1 if none). */
  get inFlightSlot(): number {
    return this.#inFlight;
  }

  /** Release the message last returned by `nextMail`. */
  releaseMail(): void {
    const slot = this.#inFlight;
    if (slot < 0) return;
    const reader = this.#readers[slot];
    if (reader) this.#commit(reader, slot);
    this.#inFlight = -1;
  }

  #commit(reader: RingReader, slot: number): void {
    reader.commit();
    if (countedLane(this.#lanes[slot]!)) this.gate.release();
  }

  /** True when some sender has rung and not been drained yet. */
  hasWork(): boolean {
    return this.#queues[0]!.length + this.#queues[1]!.length + this.#queues[2]!.length + this.#queues[3]!.length > 0 || this.doorbell.anyReady();
  }

  /** Worker threads: spin up to the budget, then block until a sender rings or `timeoutMs` passes. */
  waitForWork(timeoutMs: number): ParkResult {
    if (this.#spin()) return 'ready';
    return this.doorbell.park(timeoutMs);
  }

  /** Any thread: spin (workers only), then wait without blocking the event loop. */
  async waitForWorkAsync(timeoutMs: number): Promise<ParkResult> {
    if (!isMainThread && this.#spin()) return 'ready';
    if (this.hasWork()) return 'ready';
    return this.doorbell.parkAsync(timeoutMs);
  }

  /**
   * Wait (without blocking the event loop) until a reply arrives, the doorbell
   * is woken, or `timeoutMs` passes. Used while a handler awaits its own ask:
   * unread mail must not count as a reason to return.
   */
  waitForRepliesAsync(timeoutMs: number): Promise<ParkResult> {
    return this.doorbell.parkAsync(timeoutMs, () => this.#replyPending());
  }

  #replyPending(): boolean {
    for (let s = 0; s < this.#readers.length; s++) {
      const r = this.#readers[s];
      if (r && this.#lanes[s] === 'reply' && r.depth() > 0) return true;
    }
    return false;
  }

  /**
   * Spin only while traffic is recent: right after taking work, the next
   * frame is likely microseconds away and waking from a park costs ~40 µs;
   * after a quiet wake-up (a timeout, a control message) it is not, and an
   * idle actor must not burn a core.
   */
  #spin(): boolean {
    if (this.hasWork()) return true;
    const recent = this.#busySincePark;
    this.#busySincePark = false;
    if (this.#spinMs <= 0 || !recent) return false;
    const until = performance.now() + this.#spinMs;
    do {
      // Check the bitmap a few times between clock reads: a clock read costs
      // more than a bitmap load.
      for (let i = 0; i < 64; i++) if (this.doorbell.anyReady()) return true;
    } while (performance.now() < until);
    return false;
  }

  /** Move the doorbell's READY bits into the round-robin queue. */
  #collect(): void {
    for (let w = 0, words = this.doorbell.readyWords; w < words; w++) {
      let bits = this.doorbell.takeReadyWord(w);
      while (bits !== 0) {
        const slot = (w << 5) | (31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
        if (this.#queued[slot] === 0) {
          this.#queued[slot] = 1;
          this.#queues[LANE_INDEX[this.#lanes[slot]!]]!.push(slot);
        }
      }
    }
  }

  #unqueue(lane: number, i: number): void {
    const q = this.#queues[lane]!;
    this.#queued[q[i]!] = 0;
    q.splice(i, 1);
  }

  #drain(max: number, fn: FrameHandler, lanes: readonly number[]): number {
    let n = 0;
    this.#collect();
    for (const lane of lanes) {
      const q = this.#queues[lane]!;
      // One round per loop: every queued sender gets one turn of up to fairBatch frames.
      while (n < max && q.length > 0) {
        const round = q.length;
        let progressed = false;
        for (let k = 0, i = 0; k < round && n < max; k++) {
          const slot = q[i]!;
          if (slot === this.#inFlight) {
            i++;
            continue;
          }
          const take = Math.min(max - n, this.#fairBatch);
          const got = this.#turn(slot, take, fn);
          n += got;
          if (got > 0) progressed = true;
          if (got < take) this.#unqueue(lane, i);
          else {
            q.splice(i, 1);
            q.push(slot);
          }
        }
        if (!progressed) break;
        this.#collect();
      }
    }
    if (n > 0) this.#busySincePark = true;
    return n;
  }

  #turn(slot: number, take: number, fn: FrameHandler): number {
    const reader = this.#readers[slot];
    if (!reader) return 0; // rung before its ring was attached: attach() marks it ready again
    try {
      const n = reader.drain(take, (bytes, offset, length) => fn(bytes, offset, length, slot));
      if (countedLane(this.#lanes[slot]!)) for (let i = 0; i < n; i++) this.gate.release();
      return n;
    } catch (err) {
      if (!(err instanceof RingCorruptError)) throw err; // the frame stays; the slot stays queued
      this.#corrupt(slot, err);
      return 0;
    }
  }

  #next(reader: RingReader, slot: number): boolean {
    try {
      return reader.next();
    } catch (err) {
      if (!(err instanceof RingCorruptError)) throw err;
      this.#corrupt(slot, err);
      return false;
    }
  }

  #corrupt(slot: number, err: RingCorruptError): void {
    this.#readers[slot] = null;
    if (this.#onRingCorrupt) this.#onRingCorrupt(slot, err);
    else throw err;
  }

  #decode(bytes: Buffer, offset: number, length: number, slot: number): Envelope | null {
    try {
      return this.#codec.decode(bytes, offset, length);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      const raw = Uint8Array.prototype.slice.call(bytes, offset, offset + length);
      if (this.#onUndecodable) this.#onUndecodable(slot, err, raw);
      return null;
    }
  }

  #withEnvHandler(fn: EnvelopeHandler, run: () => number): number {
    const prev = this.#envHandler;
    this.#envHandler = fn;
    try {
      return run();
    } finally {
      this.#envHandler = prev;
    }
  }
}

function positiveInt(path: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(path, `must be a positive integer, got ${v}`);
  return v;
}
