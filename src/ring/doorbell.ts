import { isMainThread } from 'node:worker_threads';
import { InvalidOptionError, NotOnMainThreadError } from '../errors.js';
import {
  CONSUMER_PARKED,
  DEFAULT_SENDER_SLOTS,
  DOORBELL_SEQ,
  MAX_SENDER_SLOTS,
  NOTIFIES,
  READY_BITMAP,
  SENDER_SLOTS,
  doorbellBytes,
} from './layout.js';
import { waitAsync } from './wait.js';

/** Outcome of a park: woken by a producer (or found work before sleeping), or the time ran out. */
export type ParkResult = 'ready' | 'timed-out';

export function createDoorbell(senderSlots = DEFAULT_SENDER_SLOTS): SharedArrayBuffer {
  if (!Number.isInteger(senderSlots) || senderSlots < 1 || senderSlots > MAX_SENDER_SLOTS) {
    throw new InvalidOptionError('senderSlots', `must be an integer from 1 to ${MAX_SENDER_SLOTS}, got ${senderSlots}`);
  }
  const sab = new SharedArrayBuffer(doorbellBytes(senderSlots));
  new Int32Array(sab)[SENDER_SLOTS] = senderSlots;
  return sab;
}

/**
 * One doorbell per receiving thread. Producers call `ring(slot)` after
 * publishing a frame; the consumer calls `takeReady` to learn which rings have
 * frames and `park`/`parkAsync` to sleep until one does.
 *
 * Lost wake-ups are ruled out by a Dekker-style pairing of sequentially
 * consistent Atomics: the producer publishes its frame, sets the READY bit,
 * then reads CONSUMER_PARKED; the consumer sets CONSUMER_PARKED, reads
 * DOORBELL_SEQ, then re-reads the READY bitmap before sleeping on DOORBELL_SEQ.
 * Either the consumer's re-check sees the bit, or the producer sees the flag
 * and bumps DOORBELL_SEQ (which makes the consumer's wait return at once).
 */
export class Doorbell {
  readonly buffer: SharedArrayBuffer;
  readonly senderSlots: number;
  readonly #i32: Int32Array;
  readonly #words: number;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.senderSlots = this.#i32[SENDER_SLOTS]!;
    if (this.senderSlots < 1 || doorbellBytes(this.senderSlots) > buffer.byteLength) {
      throw new InvalidOptionError('doorbell', `buffer of ${buffer.byteLength} bytes is not a doorbell (sender slots ${this.senderSlots})`);
    }
    this.#words = Math.ceil(this.senderSlots / 32);
  }

  /**
   * Producer side: mark ring `slot` ready and wake the consumer if it is
   * parked. The producer that finds the consumer parked claims the wake-up
   * (it exchanges the parked flag back to 0), so a burst from many producers
   * into a parked consumer costs one `notify`, not one per frame.
   */
  ring(slot: number): void {
    const i32 = this.#i32;
    const word = READY_BITMAP + (slot >>> 5);
    const bit = 1 << (slot & 31);
    // Under load the bit is usually still set from the last frame: a plain
    // atomic load is far cheaper than a read-modify-write on a shared line.
    if ((Atomics.load(i32, word) & bit) === 0) Atomics.or(i32, word, bit);
    if (Atomics.load(i32, CONSUMER_PARKED) !== 0 && Atomics.exchange(i32, CONSUMER_PARKED, 0) !== 0) this.#notify();
  }

  /** Wake the consumer without marking a ring (used to deliver a control event, or to close). */
  wake(): void {
    Atomics.store(this.#i32, CONSUMER_PARKED, 0);
    this.#notify();
  }

  /** The consumer is parked (or about to park) and nobody has rung since. */
  get parked(): boolean {
    return Atomics.load(this.#i32, CONSUMER_PARKED) !== 0;
  }

  /** Wake-ups sent to this doorbell's consumer so far (by producers and `wake`). */
  get notifies(): number {
    return Atomics.load(this.#i32, NOTIFIES);
  }

  #notify(): void {
    Atomics.add(this.#i32, DOORBELL_SEQ, 1);
    Atomics.add(this.#i32, NOTIFIES, 1);
    Atomics.notify(this.#i32, DOORBELL_SEQ, 1);
  }

  /** Consumer side: take and clear the ready bits of bitmap word `w` (rings 32w..32w+31). */
  takeReadyWord(w: number): number {
    const word = READY_BITMAP + w;
    return Atomics.load(this.#i32, word) === 0 ? 0 : Atomics.exchange(this.#i32, word, 0);
  }

  get readyWords(): number {
    return this.#words;
  }

  /** Consumer side: put a ring's bit back (it still has frames after its fair share). */
  markReady(slot: number): void {
    Atomics.or(this.#i32, READY_BITMAP + (slot >>> 5), 1 << (slot & 31));
  }

  anyReady(): boolean {
    for (let w = 0; w < this.#words; w++) {
      if (Atomics.load(this.#i32, READY_BITMAP + w) !== 0) return true;
    }
    return false;
  }

  /**
   * Consumer side, worker threads only: sleep until a producer rings or
   * `timeoutMs` passes. Returns at once if a ring is already ready.
   */
  park(timeoutMs: number): ParkResult {
    if (isMainThread) throw new NotOnMainThreadError('Doorbell.park');
    const seq = this.#announcePark(() => this.anyReady());
    if (seq === null) return 'ready';
    const r = Atomics.wait(this.#i32, DOORBELL_SEQ, seq, timeoutMs);
    Atomics.store(this.#i32, CONSUMER_PARKED, 0);
    return r === 'timed-out' ? 'timed-out' : 'ready';
  }

  /**
   * Consumer side, any thread: like `park` but never blocks the event loop
   * (the wait holds the loop open: see `waitAsync`).
   */
  async parkAsync(timeoutMs: number, ready: () => boolean = () => this.anyReady()): Promise<ParkResult> {
    const seq = this.#announcePark(ready);
    if (seq === null) return 'ready';
    let r = waitAsync(this.#i32, DOORBELL_SEQ, seq, timeoutMs);
    if (typeof r !== 'string') r = await r;
    Atomics.store(this.#i32, CONSUMER_PARKED, 0);
    return r === 'timed-out' ? 'timed-out' : 'ready';
  }

  /**
   * Returns the sequence to sleep on, or null when work arrived meanwhile.
   * `ready` is the re-check made after announcing: by default any ring
   * ready; a caller waiting for one kind of frame may narrow it (and then
   * wakes, harmlessly, for the other kinds too).
   */
  #announcePark(ready: () => boolean): number | null {
    Atomics.store(this.#i32, CONSUMER_PARKED, 1);
    const seq = Atomics.load(this.#i32, DOORBELL_SEQ);
    if (ready()) {
      Atomics.store(this.#i32, CONSUMER_PARKED, 0);
      return null;
    }
    return seq;
  }
}
