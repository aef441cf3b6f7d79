import { InvalidOptionError } from '../errors.js';
import {
  CAPACITY,
  CONSUMER_CLOSED,
  PRODUCER_CLOSED,
  PRODUCER_WAITING,
  DEFAULT_RING_CAPACITY_BYTES,
  DEFAULT_RING_DICT_BYTES,
  DICT_BYTES,
  MAX_RING_DICT_BYTES,
  FRAMES_READ,
  FRAMES_WRITTEN,
  FULL_EVENTS,
  MAX_RING_CAPACITY_BYTES,
  MIN_RING_CAPACITY_BYTES,
  READ_POS,
  WRITE_POS,
  RING_HEADER_BYTES,
  RING_HEADER_SLOTS,
  SPACE_SEQ,
} from './layout.js';

export { RingWriter, RESERVE_CLOSED, RESERVE_FULL } from './writer.js';
export type { SpaceResult, WriteResult } from './writer.js';
export { RingReader } from './reader.js';

/**
 * Create the shared memory of one ring with a data area of `capacityBytes`
 * (a power of two) and a dictionary area of `dictBytes` (a multiple of 64).
 */
export function createRing(capacityBytes = DEFAULT_RING_CAPACITY_BYTES, dictBytes = DEFAULT_RING_DICT_BYTES): SharedArrayBuffer {
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
  if (!Number.isInteger(dictBytes) || dictBytes < 0 || dictBytes > MAX_RING_DICT_BYTES || dictBytes % 64 !== 0) {
    throw new InvalidOptionError('ring.dictBytes', `must be a multiple of 64 from 0 to ${MAX_RING_DICT_BYTES}, got ${dictBytes}`);
  }
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes + dictBytes);
  const hdr = new Int32Array(sab, 0, RING_HEADER_SLOTS);
  hdr[CAPACITY] = capacityBytes;
  hdr[DICT_BYTES] = dictBytes;
  return sab;
}

/** Frames published into `buffer` and not yet released, read from the header alone. */
export function ringDepth(buffer: SharedArrayBuffer): number {
  const hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
  return (Atomics.load(hdr, FRAMES_WRITTEN) - Atomics.load(hdr, FRAMES_READ)) >>> 0;
}

/**
 * True when every frame published into `buffer` has been released. Read from
 * the positions, not the frame counters: a thread killed between its two
 * stores in a commit can leave the counters one apart, never the positions.
 */
export function ringDrained(buffer: SharedArrayBuffer): boolean {
  const hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
  return Atomics.load(hdr, READ_POS) === Atomics.load(hdr, WRITE_POS);
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
 * Ready a drained ring whose producer is gone for good for its next producer,
 * as a producer restart would find it: positions, counters and the
 * dictionary go on (the new producer's writer and encoder continue them), the
 * closed and waiting flags are cleared. Only while no thread writes it and its
 * old consumer has been told to drop it. False (and left as it is) when its
 * data area is not `capacityBytes`, or it still holds unread frames.
 */
export function reuseRing(buffer: SharedArrayBuffer, capacityBytes: number): boolean {
  const hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
  if (Atomics.load(hdr, CAPACITY) !== capacityBytes || !ringDrained(buffer)) return false;
  Atomics.store(hdr, PRODUCER_WAITING, 0);
  Atomics.store(hdr, PRODUCER_CLOSED, 0);
  Atomics.store(hdr, CONSUMER_CLOSED, 0);
  return true;
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
