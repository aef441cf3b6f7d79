import { isMainThread } from 'node:worker_threads';
import { InvalidOptionError, MessageTooLargeError, NotOnMainThreadError } from '../errors.js';
import type { Doorbell } from './doorbell.js';
import {
  CONSUMER_CLOSED,
  DICT_LENGTH,
  FRAMES_WRITTEN,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FULL_EVENTS,
  PRODUCER_CLOSED,
  PRODUCER_WAITING,
  READ_POS,
  SPACE_SEQ,
  WRAP_MARKER,
  WRITE_POS,
  frameBytes,
} from './layout.js';
import { RingView } from './view.js';
import { waitAsync } from './wait.js';

/** `reserve` found no room; retry later or wait for space. */
export const RESERVE_FULL = -1;
/** `reserve` found the consumer gone; nothing written to this ring will be read. */
export const RESERVE_CLOSED = -2;

export type WriteResult = 'written' | 'full' | 'closed';

/**
 * Past this offset, a producer that finds the ring empty goes back to its
 * start (bytes). A ring whose consumer keeps up then lives in its first few
 * pages: the rest of its memory is never touched, so it is never made
 * resident and never competes for cache, and a process with thousands of
 * rings (200 actors with 10 peers each) pays for what is in flight, not for
 * every ring's capacity.
 *
 * The cost: until the consumer has read past the wrap marker, the skipped
 * end of the ring counts as used, so a burst that starts right after a
 * rewind has these many bytes of room before it waits for the consumer's
 * next read. Rings smaller than 4 × this never rewind.
 */
export const REWIND_AFTER_BYTES = 32 * 1024;
/** While the ring is not empty, look again only this many bytes later (READ_POS is the consumer's busy line). */
const REWIND_RECHECK_BYTES = 4096;
export type SpaceResult = 'space' | 'closed' | 'timed-out';

/**
 * The producing end of a ring. Exactly one thread may hold a RingWriter for a
 * given buffer at a time.
 *
 * Frames become visible only at `commit`, which publishes WRITE_POS after the
 * whole frame is in memory; a producer that dies between `reserve` and
 * `commit` leaves nothing the consumer can see.
 */
export class RingWriter extends RingView {
  #pos: number;
  #cachedRead: number;
  #pending = 0;
  #hasPending = false;
  #frames: number;
  #doorbell: Doorbell | null;
  #slot: number;
  readonly #rewindAt: number;
  /** Position from which an empty ring is looked for again. */
  #rewindCheck: number;

  constructor(buffer: SharedArrayBuffer, doorbell: Doorbell | null = null, slot = 0) {
    super(buffer);
    this.#pos = Atomics.load(this.hdr, WRITE_POS);
    this.#cachedRead = Atomics.load(this.hdr, READ_POS);
    this.#frames = Atomics.load(this.hdr, FRAMES_WRITTEN);
    this.#doorbell = doorbell;
    this.#slot = slot;
    this.#rewindAt = this.capacity >= 4 * REWIND_AFTER_BYTES ? REWIND_AFTER_BYTES : Infinity;
    this.#rewindCheck = this.#pos;
  }

  get closed(): boolean {
    return Atomics.load(this.hdr, CONSUMER_CLOSED) !== 0 || Atomics.load(this.hdr, PRODUCER_CLOSED) !== 0;
  }

  /**
   * Reserve room for a frame of `len` payload bytes. Returns the payload's
   * offset in `bytes`, or RESERVE_FULL / RESERVE_CLOSED. Never blocks.
   * Throws MessageTooLargeError when `len` can never fit this ring.
   */
  reserve(len: number): number {
    if (len > this.maxPayload || len < 0) throw new MessageTooLargeError(len, this.maxPayload, 'ring frame');
    if (this.closed) return RESERVE_CLOSED;
    const size = frameBytes(len);
    let pos = this.#pos;
    let off = pos & this.mask;
    const tail = this.capacity - off;
    let rewind = false;
    if (off >= this.#rewindAt && ((pos - this.#rewindCheck) | 0) >= 0) {
      // Everything written was read: go back to the start (a wrap marker here)
      // rather than on into memory this ring has not needed so far.
      this.#cachedRead = Atomics.load(this.hdr, READ_POS);
      rewind = this.#cachedRead === pos && size <= off; // a frame larger than the part already used wraps as usual
      if (!rewind) this.#rewindCheck = (pos + REWIND_RECHECK_BYTES) | 0;
    }
    const need = size <= tail && !rewind ? size : tail + size;
    if (need > this.capacity - ((pos - this.#cachedRead) >>> 0)) {
      // Only now look at the consumer's line: while there is room, the
      // producer never touches it.
      this.#cachedRead = Atomics.load(this.hdr, READ_POS);
      if (need > this.capacity - ((pos - this.#cachedRead) >>> 0)) {
        Atomics.add(this.hdr, FULL_EVENTS, 1);
        return RESERVE_FULL;
      }
    }
    if (size > tail || rewind) {
      this.d32[off >> 2] = WRAP_MARKER;
      this.d32[(off >> 2) + 1] = WRAP_MARKER ^ FRAME_MAGIC;
      pos = (pos + tail) | 0;
      off = 0;
      this.#rewindCheck = pos;
    }
    this.d32[off >> 2] = len;
    this.d32[(off >> 2) + 1] = len ^ FRAME_MAGIC;
    this.#pending = (pos + size) | 0;
    this.#hasPending = true;
    return off + FRAME_HEADER_BYTES;
  }

  /** Publish the reserved frame and ring the doorbell. */
  commit(): void {
    if (!this.#hasPending) return;
    this.#hasPending = false;
    this.#pos = this.#pending;
    this.#frames = (this.#frames + 1) | 0;
    // The stores are sequentially consistent: a consumer that loads this
    // WRITE_POS also sees every plain write of the frame made before it.
    Atomics.store(this.hdr, WRITE_POS, this.#pos);
    Atomics.store(this.hdr, FRAMES_WRITTEN, this.#frames);
    this.#doorbell?.ring(this.#slot);
  }

  /**
   * Publish the first `length` bytes of the dictionary area (written into
   * `dict` before this call). Frames committed afterwards may refer to them.
   */
  publishDict(length: number): void {
    if (!Number.isInteger(length) || length < this.dictLength() || length > this.dict.length) {
      throw new InvalidOptionError('ring.publishDict', `length must grow within 0..${this.dict.length}, got ${length} (published ${this.dictLength()})`);
    }
    Atomics.store(this.hdr, DICT_LENGTH, length);
  }

  /** Copy `payload` into the ring as one frame. Never blocks. */
  tryWrite(payload: Uint8Array): WriteResult {
    const off = this.reserve(payload.byteLength);
    if (off === RESERVE_FULL) return 'full';
    if (off === RESERVE_CLOSED) return 'closed';
    this.bytes.set(payload, off);
    this.commit();
    return 'written';
  }

  /** Worker threads only: block until a frame of `len` bytes fits, the ring closes, or `timeoutMs` passes. */
  waitForSpace(len: number, timeoutMs: number): SpaceResult {
    if (isMainThread) throw new NotOnMainThreadError('RingWriter.waitForSpace');
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seq = this.#announceWait();
      const state = this.#spaceState(len);
      if (state !== null) return this.#endWait(state);
      const left = deadline - performance.now();
      if (left <= 0) return this.#endWait('timed-out');
      Atomics.wait(this.hdr, SPACE_SEQ, seq, left);
    }
  }

  /** Any thread: like `waitForSpace`, without blocking the event loop (the wait holds it open: see `waitAsync`). */
  async waitForSpaceAsync(len: number, timeoutMs: number): Promise<SpaceResult> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seq = this.#announceWait();
      const state = this.#spaceState(len);
      if (state !== null) return this.#endWait(state);
      const left = deadline - performance.now();
      if (left <= 0) return this.#endWait('timed-out');
      const r = waitAsync(this.hdr, SPACE_SEQ, seq, left);
      if (typeof r !== 'string') await r;
    }
  }

  /** Write, waiting up to `timeoutMs` for room, without blocking the event loop. */
  async writeAsync(payload: Uint8Array, timeoutMs: number): Promise<WriteResult | 'timed-out'> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = this.tryWrite(payload);
      if (r !== 'full') return r;
      const s = await this.waitForSpaceAsync(payload.byteLength, Math.max(0, deadline - performance.now()));
      if (s !== 'space') return s === 'closed' ? 'closed' : 'timed-out';
    }
  }

  /** No more frames will come from this producer; the consumer sees `closed` once it has read the rest. */
  close(): void {
    Atomics.store(this.hdr, PRODUCER_CLOSED, 1);
    this.#doorbell?.ring(this.#slot);
  }

  #announceWait(): number {
    Atomics.store(this.hdr, PRODUCER_WAITING, 1);
    return Atomics.load(this.hdr, SPACE_SEQ);
  }

  #endWait<T>(result: T): T {
    Atomics.store(this.hdr, PRODUCER_WAITING, 0);
    return result;
  }

  #spaceState(len: number): SpaceResult | null {
    if (this.closed) return 'closed';
    if (len > this.maxPayload) throw new MessageTooLargeError(len, this.maxPayload, 'ring frame');
    this.#cachedRead = Atomics.load(this.hdr, READ_POS);
    const size = frameBytes(len);
    const tail = this.capacity - (this.#pos & this.mask);
    const need = size <= tail ? size : tail + size;
    return need <= this.capacity - ((this.#pos - this.#cachedRead) >>> 0) ? 'space' : null;
  }
}
