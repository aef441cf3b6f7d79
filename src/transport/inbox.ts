import { DEFAULT_SPIN_MICROS } from '../defaults.js';
import { Codec, type Envelope } from '../codec/envelope.js';
import { RecordDecoder } from '../codec/records.js';
import { InvalidOptionError } from '../errors.js';
import { Doorbell, type ParkResult } from '../ring/doorbell.js';
import { RingReader } from '../ring/ring.js';
import type { SpinBudget } from '../ring/spin-budget.js';
import { FrameRouter, type FrameErrorHandlers, type FrameHandler } from './decoding.js';
import { ALL_QUEUES, LANE_QUEUES, LaneQueues, MAIL_QUEUES, REPLY_QUEUE } from './lanes.js';
import { MailboxGate } from './mailbox.js';
import { Parking, type SpinStats } from './parking.js';
import { countedLane, type Lane } from './protocol.js';
import { Shedder, type ShedHandler } from './shedding.js';

export type { FrameHandler } from './decoding.js';

/** Frames taken from one sender before the next sender gets a turn. */
export const DEFAULT_FAIR_BATCH = 32;

export interface InboxOptions extends FrameErrorHandlers {
  /** The owner's id: the `to` of every message read here (the wire leaves it out). Default ''. */
  id?: string;
  /** Frames taken from one sender per turn; default DEFAULT_FAIR_BATCH. */
  fairBatch?: number;
  /** Longest spin before parking, µs; default DEFAULT_SPIN_MICROS (0 = park at once). */
  spinMicros?: number;
  /** Spin only while recent gaps between messages are shorter than the spin (default true); see Parking. */
  adaptiveSpin?: boolean;
  /** Seats shared by the process's spinning threads; default none (no limit). */
  spinBudget?: SpinBudget | null;
  codec?: Codec;
  /** `drop-oldest` mailbox over its bound: this message was shed unhandled (dead-letter it). */
  onShed?: ShedHandler;
}

export type EnvelopeHandler = (env: Envelope, slot: number) => void;

/**
 * The receiving side of one thread: one SPSC ring per sender and lane, and
 * one doorbell. Senders never share a ring, so a sender that dies mid-write
 * cannot block or corrupt what the others deliver.
 *
 * Senders with frames wait in a round-robin queue per lane (LaneQueues); each
 * gets a bounded turn (`fairBatch` frames, or one message for `nextMail`)
 * before the next, so a busy sender cannot starve a slow one. `nextMail`
 * serves the `system` lane first, then `high`, then `normal`: a high message
 * waits for at most the message being handled. Decoding and what goes wrong
 * in it are FrameRouter's, shedding under `drop-oldest` is Shedder's, and
 * spinning and parking are Parking's.
 */
export class Inbox {
  readonly doorbell: Doorbell;
  /** The mailbox bound senders apply; the inbox counts messages out of it. */
  readonly gate: MailboxGate;
  readonly #readers: (RingReader | null)[];
  /** Each ring's record structures, by slot (read from the ring's dictionary). */
  readonly #records: (RecordDecoder | null)[];
  readonly #lanes: LaneQueues;
  readonly #router: FrameRouter;
  readonly #shedder: Shedder;
  readonly #parking: Parking;
  readonly #fairBatch: number;
  /** Slot of the mail message handed out by `nextMail` and not yet released, or -1. */
  #inFlight = -1;
  #inFlightBytes = 0;
  #inFlightPos = 0;
  #envHandler: EnvelopeHandler | null = null;
  readonly #decodeFrame: FrameHandler = (bytes, offset, length, slot) => {
    const env = this.#router.decode(bytes, offset, length, slot);
    if (env) this.#envHandler!(env, slot);
  };
  readonly #turn = (slot: number, take: number, fn: FrameHandler): number => {
    const reader = this.#readers[slot];
    if (!reader) return 0; // rung before its ring was attached: attach() marks it ready again
    const n = this.#router.drain(reader, slot, take, fn);
    if (n > 0 && countedLane(this.#lanes.laneOf(slot))) this.gate.release(n);
    return n;
  };

  constructor(doorbell: SharedArrayBuffer, options: InboxOptions = {}) {
    this.doorbell = new Doorbell(doorbell);
    this.gate = new MailboxGate(doorbell);
    this.#readers = new Array<RingReader | null>(this.doorbell.senderSlots).fill(null);
    this.#records = new Array<RecordDecoder | null>(this.doorbell.senderSlots).fill(null);
    this.#lanes = new LaneQueues(this.doorbell.senderSlots);
    this.#fairBatch = positiveInt('inbox.fairBatch', options.fairBatch ?? DEFAULT_FAIR_BATCH);
    this.#parking = new Parking(
      this.doorbell,
      { micros: options.spinMicros ?? DEFAULT_SPIN_MICROS, adaptive: options.adaptiveSpin ?? true, budget: options.spinBudget ?? null },
      () => this.hasWork(),
    );
    this.#router = new FrameRouter(options.codec ?? new Codec(), options.id ?? '', this.#records, options, (slot) => this.detach(slot));
    this.#shedder = new Shedder(this.gate, options.onShed);
  }

  /** Start reading a sender's ring in `slot`. Frames already in it are delivered. */
  attach(slot: number, ring: SharedArrayBuffer, lane: Lane = 'normal'): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#readers.length) {
      throw new InvalidOptionError('inbox.attach slot', `must be 0..${this.#readers.length - 1}, got ${slot}`);
    }
    const reader = new RingReader(ring);
    this.#readers[slot] = reader;
    this.#records[slot] = new RecordDecoder(reader, { copyBuffers: true, mapsAsObjects: true });
    this.#lanes.setLane(slot, lane);
    // Ring, not just mark: a sender may have rung before the ring was
    // attached, and this thread may be parked right now.
    this.doorbell.ring(slot);
  }

  detach(slot: number): void {
    this.#readers[slot] = null;
    this.#records[slot] = null;
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
      if (r && (lane === undefined || this.#lanes.laneOf(s) === lane)) n += r.depth();
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
    return this.#drainEnvelopes(max, fn, lane === null ? ALL_QUEUES : LANE_QUEUES[lane]);
  }

  /** Drain the mail lanes (system, high, normal, in that order), not the replies. */
  drainMail(max: number, fn: EnvelopeHandler): number {
    return this.#drainEnvelopes(max, fn, MAIL_QUEUES);
  }

  /** Drain only the reply lane: answers to this thread's own asks, taken aside from its mail. */
  drainReplies(fn: EnvelopeHandler): number {
    return this.#drainEnvelopes(Infinity, fn, REPLY_QUEUE);
  }

  /**
   * The next mail message, one sender's turn at a time, without releasing it:
   * it stays in its ring until `releaseMail()`, so a thread that dies while
   * handling it leaves it for the next reader of the ring.
   */
  nextMail(): Envelope | null {
    if (this.#inFlight >= 0) throw new InvalidOptionError('inbox.nextMail', 'called again before releaseMail()');
    const lanes = this.#lanes;
    lanes.collect(this.doorbell);
    for (const lane of MAIL_QUEUES) {
      const q = lanes.queues[lane]!;
      while (q.length > 0) {
        const slot = q[0]!;
        const reader = this.#readers[slot];
        if (!reader || !this.#router.next(reader, slot)) {
          lanes.unqueue(lane, 0);
          continue;
        }
        const env = this.#router.decode(reader.bytes, reader.offset, reader.length, slot);
        if (!env) {
          this.#commit(reader, slot);
          continue;
        }
        if (this.#shedder.due(lane)) {
          // Over the bound: the oldest message makes room for the newest.
          this.#commit(reader, slot);
          this.#shedder.shed(env);
          continue;
        }
        // Round robin: this sender goes to the back of its lane's queue.
        lanes.rotate(lane, 0);
        this.#inFlight = slot;
        this.#inFlightBytes = reader.length;
        this.#inFlightPos = reader.committed;
        this.#parking.busy();
        return env;
      }
    }
    return null;
  }

  /** Ring slot of the message `nextMail` handed out and not yet released (-1 if none). */
  get inFlightSlot(): number {
    return this.#inFlight;
  }

  /** Read position of that message's ring when it was handed out: with the slot, it names the frame (unreleased, it is the ring's oldest). */
  get inFlightPos(): number {
    return this.#inFlightPos;
  }

  /** Size of that message's frame, bytes. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Release the message last returned by `nextMail`. */
  releaseMail(): void {
    const slot = this.#inFlight;
    if (slot < 0) return;
    const reader = this.#readers[slot];
    if (reader) this.#commit(reader, slot);
    this.#inFlight = -1;
  }

  /** Mark the inbox as having just had traffic: the next wait may spin (a reply to what was just sent is near). */
  markBusy(): void {
    this.#parking.busy();
  }

  /** Spin now if the spin policy says it is worth it, on any thread; true if work showed up. */
  spinNow(): boolean {
    return this.#parking.spin();
  }

  /** Teach the adaptive spin how long the awaited work took to arrive, ms (see Parking.learn). */
  learnGap(ms: number): void {
    this.#parking.learn(ms);
  }

  /** How this inbox's waits went: spins that found work, spins that ran out, waits that parked at once. */
  get spinStats(): Readonly<SpinStats> {
    return this.#parking.stats;
  }

  /** True when some sender has rung and not been drained yet. */
  hasWork(): boolean {
    return this.#lanes.any || this.doorbell.anyReady();
  }

  /** Worker threads: spin up to the budget, then block until a sender rings or `timeoutMs` passes. */
  waitForWork(timeoutMs: number): ParkResult {
    return this.#parking.wait(timeoutMs);
  }

  /** Any thread: spin (workers only), then wait without blocking the event loop. */
  waitForWorkAsync(timeoutMs: number): Promise<ParkResult> {
    return this.#parking.waitAsync(timeoutMs);
  }

  /**
   * Wait (without blocking the event loop) until a reply arrives, the doorbell
   * is woken, or `timeoutMs` passes. Used while a handler awaits its own ask:
   * unread mail must not count as a reason to return.
   */
  waitForRepliesAsync(timeoutMs: number): Promise<ParkResult> {
    return this.doorbell.parkAsync(timeoutMs, () => this.#replyPending());
  }

  #commit(reader: RingReader, slot: number): void {
    reader.commit();
    if (countedLane(this.#lanes.laneOf(slot))) this.gate.release(1);
  }

  #replyPending(): boolean {
    for (let s = 0; s < this.#readers.length; s++) {
      const r = this.#readers[s];
      if (r && this.#lanes.laneOf(s) === 'reply' && r.depth() > 0) return true;
    }
    return false;
  }

  #drain(max: number, fn: FrameHandler, lanes: readonly number[]): number {
    const n = this.#lanes.rounds(this.doorbell, lanes, max, this.#fairBatch, this.#inFlight, this.#turn, fn);
    if (n > 0) this.#parking.busy();
    return n;
  }

  /** #drain decoding each frame for `fn` (kept in a field, not a closure: a handler may drain again, so it is restored). */
  #drainEnvelopes(max: number, fn: EnvelopeHandler, lanes: readonly number[]): number {
    const prev = this.#envHandler;
    this.#envHandler = fn;
    try {
      return this.#drain(max, this.#decodeFrame, lanes);
    } finally {
      this.#envHandler = prev;
    }
  }
}

function positiveInt(path: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(path, `must be a positive integer, got ${v}`);
  return v;
}
