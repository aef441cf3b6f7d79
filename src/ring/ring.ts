import { isMainThread } from 'node:worker_threads';
import { InvalidOptionError, MessageTooLargeError, NotOnMainThreadError, RingCorruptError } from '../errors.js';
import type { Doorbell } from './doorbell.js';
import {
  CAPACITY,
  CONSUMER_CLOSED,
  DEFAULT_RING_CAPACITY_BYTES,
  FRAMES_READ,
  FRAMES_WRITTEN,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FULL_EVENTS,
  MAX_RING_CAPACITY_BYTES,
  MIN_RING_CAPACITY_BYTES,
  PRODUCER_CLOSED,
  PRODUCER_WAITING,
  READ_POS,
  RING_HEADER_BYTES,
  RING_HEADER_SLOTS,
  SPACE_SEQ,
  WRAP_MARKER,
  WRITE_POS,
  frameBytes,
  maxPayloadBytes,
} from './layout.js';
import { waitAsync } from './wait.js';

/** `reserve` found no room; retry later or wait for space. */
export const RESERVE_FULL = -1;
/** `reserve` found the consumer gone; nothing written to this ring will be read. */
export const RESERVE_CLOSED = -2;

export type WriteResult = 'written' | 'full' | 'closed';
export type SpaceResult = 'space' | 'closed' | 'timed-out';

/** Create the shared memory of one ring with a data area of `capacityBytes` (a power of two). */
export function createRing(capacityBytes = DEFAULT_RING_CAPACITY_BYTES): SharedArrayBuffer {
  if (
    !Number.isInteger(capacityBytes) ||
    capacityBytes < MIN_RING_CAPACITY_BYTES ||
    capacityBytes > MAX_RING_CAPACITY_BYTES ||
    (capacityBytes & (capacityBytes - 1)) !== 0
  ) {
    throw new InvalidOptionError(
      'ring.capacityBytes',
      `must be a power of two from ${MIN_RING_CAPACITY_BYTES} to ${MAX_RING_CAPACITY_BYTES}, got ${capacityBytes}`,
    );
  }
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes);
  new Int32Array(sab, 0, RING_HEADER_SLOTS)[CAPACITY] = capacityBytes;
  return sab;
}

/** Frames published into `buffer` and not yet released, read from the header alone. */
export function ringDepth(buffer: SharedArrayBuffer): number {
  const hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
  return (Atomics.load(hdr, FRAMES_WRITTEN) - Atomics.load(hdr, FRAMES_READ)) >>> 0;
}

/** Times a producer found `buffer` full. */
export function ringFullEvents(buffer: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(buffer, 0, RING_HEADER_SLOTS), FULL_EVENTS) >>> 0;
}

/** The consumer's position: identifies the oldest unreleased frame (the one in flight, if any). */
export function ringReadPos(buffer: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(buffer, 0, RING_HEADER_SLOTS), READ_POS);
}

/**
 * Mark the consumer side of `buffer` closed or open again, without a reader
 * (the owner of a ring whose consumer is gone for good, or coming back).
 */
export function setConsumerClosed(buffer: SharedArrayBuffer, closed: boolean): void {
  const hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
  Atomics.store(hdr, CONSUMER_CLOSED, closed ? 1 : 0);
  if (closed) {
    Atomics.add(hdr, SPACE_SEQ, 1);
    Atomics.notify(hdr, SPACE_SEQ);
  }
}

/** Views shared by both ends. */
class RingView {
  readonly buffer: SharedArrayBuffer;
  /** The data area as a Buffer, so Buffer.copy and msgpackr's Node fast paths apply. */
  readonly bytes: Buffer;
  readonly capacity: number;
  readonly maxPayload: number;
  protected readonly hdr: Int32Array;
  protected readonly d32: Int32Array;
  protected readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < RING_HEADER_BYTES + MIN_RING_CAPACITY_BYTES) {
      throw new InvalidOptionError('ring', 'must be a SharedArrayBuffer made by createRing()');
    }
    this.buffer = buffer;
    this.hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
    this.capacity = this.hdr[CAPACITY]!;
    if (this.capacity + RING_HEADER_BYTES !== buffer.byteLength || (this.capacity & (this.capacity - 1)) !== 0) {
      throw new InvalidOptionError('ring', `header says capacity ${this.capacity} but the buffer holds ${buffer.byteLength - RING_HEADER_BYTES} data bytes`);
    }
    this.mask = this.capacity - 1;
    this.maxPayload = maxPayloadBytes(this.capacity);
    this.bytes = Buffer.from(buffer, RING_HEADER_BYTES, this.capacity);
    this.d32 = new Int32Array(buffer, RING_HEADER_BYTES, this.capacity / 4);
  }

  /** Frames published and not yet released by the consumer. */
  depth(): number {
    return (Atomics.load(this.hdr, FRAMES_WRITTEN) - Atomics.load(this.hdr, FRAMES_READ)) >>> 0;
  }

  stats(): { framesWritten: number; framesRead: number; fullEvents: number; usedBytes: number } {
    return {
      framesWritten: Atomics.load(this.hdr, FRAMES_WRITTEN) >>> 0,
      framesRead: Atomics.load(this.hdr, FRAMES_READ) >>> 0,
      fullEvents: Atomics.load(this.hdr, FULL_EVENTS) >>> 0,
      usedBytes: (Atomics.load(this.hdr, WRITE_POS) - Atomics.load(this.hdr, READ_POS)) >>> 0,
    };
  }
}

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

  constructor(buffer: SharedArrayBuffer, doorbell: Doorbell | null = null, slot = 0) {
    super(buffer);
    this.#pos = Atomics.load(this.hdr, WRITE_POS);
    this.#cachedRead = Atomics.load(this.hdr, READ_POS);
    this.#frames = Atomics.load(this.hdr, FRAMES_WRITTEN);
    this.#doorbell = doorbell;
    this.#slot = slot;
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
    const need = size <= tail ? size : tail + size;
    if (need > this.capacity - ((pos - this.#cachedRead) >>> 0)) {
      // Only now look at the consumer's line: while there is room, the
      // producer never touches it.
      this.#cachedRead = Atomics.load(this.hdr, READ_POS);
      if (need > this.capacity - ((pos - this.#cachedRead) >>> 0)) {
        Atomics.add(this.hdr, FULL_EVENTS, 1);
        return RESERVE_FULL;
      }
    }
    if (size > tail) {
      this.d32[off >> 2] = WRAP_MARKER;
      this.d32[(off >> 2) + 1] = WRAP_MARKER ^ FRAME_MAGIC;
      pos = (pos + tail) | 0;
      off = 0;
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

  /** Write, waiting up to `timeoutMs` for room. Worker threads only. */
  write(payload: Uint8Array, timeoutMs: number): WriteResult | 'timed-out' {
    for (;;) {
      const r = this.tryWrite(payload);
      if (r !== 'full') return r;
      const s = this.waitForSpace(payload.byteLength, timeoutMs);
      if (s !== 'space') return s === 'closed' ? 'closed' : 'timed-out';
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

/**
 * The consuming end of a ring. Exactly one thread may hold a RingReader for a
 * given buffer at a time.
 *
 * `next()` hands out frames one by one without releasing them; `commit()`
 * releases everything handed out so far. A frame stays in the ring (and is
 * seen again by the next reader of the same buffer) until it is committed:
 * this is what lets a restarted consumer redeliver the message it died on.
 */
export class RingReader extends RingView {
  /** Payload offset in `bytes` and length of the frame last returned by `next()`. */
  offset = 0;
  length = 0;
  #cursor: number;
  #released: number;
  #lastStart: number;
  #cachedWrite: number;
  #handedOut = 0;
  #corrupt: RingCorruptError | null = null;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.#cursor = this.#released = this.#lastStart = Atomics.load(this.hdr, READ_POS);
    this.#cachedWrite = Atomics.load(this.hdr, WRITE_POS);
  }

  /**
   * Advance to the next published frame. Returns false when none is there.
   * Throws RingCorruptError (now and on every later call) for a bad header.
   */
  next(): boolean {
    if (this.#corrupt) throw this.#corrupt;
    let cur = this.#cursor;
    if (cur === this.#cachedWrite) {
      this.#cachedWrite = Atomics.load(this.hdr, WRITE_POS);
      if (cur === this.#cachedWrite) return false;
    }
    let avail = (this.#cachedWrite - cur) >>> 0;
    let off = cur & this.mask;
    let len = this.d32[off >> 2]!;
    if (len === WRAP_MARKER && this.d32[(off >> 2) + 1] === (WRAP_MARKER ^ FRAME_MAGIC)) {
      const tail = this.capacity - off;
      if (tail >= avail) this.#fail(off, `wrap marker at offset ${off} is not followed by a published frame`);
      cur = (cur + tail) | 0;
      avail -= tail;
      off = 0;
      len = this.d32[0]!;
    }
    if ((len ^ FRAME_MAGIC) !== this.d32[(off >> 2) + 1]) {
      this.#fail(off, `frame header at offset ${off} fails its check word (length field ${len})`);
    }
    if (len < 0 || len > this.maxPayload) {
      this.#fail(off, `frame at offset ${off} claims ${len} bytes; this ring holds frames of 0..${this.maxPayload} bytes`);
    }
    const size = frameBytes(len);
    if (size > avail || off + size > this.capacity) {
      this.#fail(off, `frame at offset ${off} of ${len} bytes runs past the ${avail} bytes published`);
    }
    this.#lastStart = cur;
    this.offset = off + FRAME_HEADER_BYTES;
    this.length = len;
    this.#cursor = (cur + size) | 0;
    this.#handedOut++;
    return true;
  }

  /** Release every frame handed out by `next()` so far; wakes a producer waiting for room. */
  commit(): void {
    if (this.#handedOut === 0) return;
    this.#released = this.#cursor;
    Atomics.store(this.hdr, READ_POS, this.#released);
    Atomics.add(this.hdr, FRAMES_READ, this.#handedOut);
    this.#handedOut = 0;
    if (Atomics.load(this.hdr, PRODUCER_WAITING) !== 0) this.#wakeProducer();
  }

  /** Give back the frame last returned by `next()`: the following `next()` returns it again. */
  rewind(): void {
    if (this.#handedOut === 0) return;
    this.#cursor = this.#lastStart;
    this.#handedOut--;
  }

  /** Forget every frame handed out since the last commit. */
  rewindAll(): void {
    this.#cursor = this.#released;
    this.#handedOut = 0;
  }

  /**
   * Hand up to `max` frames to `fn(bytes, offset, length)` and release them.
   * If `fn` throws, the frames before it are released, the one it threw on
   * stays in the ring, and the error propagates.
   */
  drain(max: number, fn: (bytes: Buffer, offset: number, length: number) => void): number {
    let n = 0;
    let inHandler = false;
    try {
      while (n < max && this.next()) {
        inHandler = true;
        fn(this.bytes, this.offset, this.length);
        inHandler = false;
        n++;
      }
    } catch (err) {
      if (inHandler) this.rewind();
      throw err;
    } finally {
      this.commit();
    }
    return n;
  }

  /** True once the producer has closed the ring and every frame it wrote has been handed out. */
  get drained(): boolean {
    return Atomics.load(this.hdr, PRODUCER_CLOSED) !== 0 && this.#cursor === Atomics.load(this.hdr, WRITE_POS);
  }

  /** The consumer is leaving: the producer's next write reports `closed`, and a waiting producer wakes. */
  close(): void {
    Atomics.store(this.hdr, CONSUMER_CLOSED, 1);
    this.#wakeProducer();
  }

  #wakeProducer(): void {
    Atomics.add(this.hdr, SPACE_SEQ, 1);
    Atomics.notify(this.hdr, SPACE_SEQ);
  }

  #fail(offset: number, message: string): never {
    this.#corrupt = new RingCorruptError(message, offset);
    throw this.#corrupt;
  }
}
