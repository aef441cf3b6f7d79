/**
 * Shared-memory layouts of the ring and the doorbell. Every Atomics call in
 * src/ring names one of these slots; nothing else indexes the headers.
 *
 * Ring SharedArrayBuffer (one producer thread, one consumer thread):
 *
 *   byte 0                  64                   128                    192
 *   ┌───────────────────────┬────────────────────┬──────────────────────┐
 *   │ producer line (0..15)  │ consumer line      │ control line (32..47) │
 *   │ 0 WRITE_POS            │ 16 READ_POS        │ 32 CAPACITY           │
 *   │ 1 FRAMES_WRITTEN       │ 17 FRAMES_READ     │ 33 PRODUCER_CLOSED    │
 *   │ 2 FULL_EVENTS          │ 18 SPACE_SEQ       │ 34 CONSUMER_CLOSED    │
 *   │ 3 PRODUCER_WAITING     │                    │ 35 DICT_BYTES         │
 *   │ 4 DICT_LENGTH          │                    │                       │
 *   ├───────────────────────┴────────────────────┴──────────────────────┤
 *   │ data area: `capacity` bytes (a power of two), frames back to back    │
 *   ├────────────────────────────────────────────────────────────────────┤
 *   │ dictionary area: DICT_BYTES bytes, append-only, DICT_LENGTH in use   │
 *   └────────────────────────────────────────────────────────────────────┘
 *   (numbers are Int32 slot indexes)
 *
 * The producer and the consumer each write only their own 64-byte line, so the
 * two threads do not false-share a cache line on every frame. The control line
 * is written about once in a ring's life, so both sides can read the closed
 * flags on every frame from their own cache.
 *
 * WRITE_POS and READ_POS are free-running byte counters taken modulo 2^32; the
 * offset in the data area is `pos & (capacity - 1)` and the bytes in use are
 * `(WRITE_POS - READ_POS) >>> 0`. A power-of-two capacity keeps both exact
 * across the 2^32 wrap of the counters.
 *
 * A frame:   ┌ len: i32 ┬ len ^ FRAME_MAGIC: i32 ┬ payload (len bytes) ┬ pad to 8 ┐
 * A wrap marker (the rest of the data area is unused, continue at offset 0):
 *            ┌ WRAP_MARKER ┬ WRAP_MARKER ^ FRAME_MAGIC ┐
 * The check word catches a torn or overwritten header: a frame whose two words
 * disagree, or whose length runs past what the producer published, is corrupt.
 *
 * The dictionary area holds what frames of this ring may refer to instead of
 * repeating it (the codec keeps its record structures there). Only the
 * producer appends to it, and publishes the new length with DICT_LENGTH
 * before it commits a frame that needs it; it lives as long as the ring, so
 * a restarted consumer (or producer) of the same ring finds it.
 */

/** Producer-owned slots (first cache line). */
export const WRITE_POS = 0;
export const FRAMES_WRITTEN = 1;
export const FULL_EVENTS = 2;
/** 1 while the producer is blocked waiting for room; the consumer bumps SPACE_SEQ for it. */
export const PRODUCER_WAITING = 3;
/** Bytes of the dictionary area in use (published by the producer, read by the consumer). */
export const DICT_LENGTH = 4;

/** Consumer-owned slots (second cache line). */
export const READ_POS = 16;
export const FRAMES_READ = 17;
/** Bumped by the consumer when it frees room (or closes) while the producer waits; the producer waits on it. */
export const SPACE_SEQ = 18;

/** Control line: written at creation and at close only. */
/** Capacity in bytes, written once at creation so either side can attach from the buffer alone. */
export const CAPACITY = 32;
export const PRODUCER_CLOSED = 33;
export const CONSUMER_CLOSED = 34;
/** Size of the dictionary area after the data area, written once at creation. */
export const DICT_BYTES = 35;

export const RING_HEADER_BYTES = 192;
export const RING_HEADER_SLOTS = RING_HEADER_BYTES / 4;

export const FRAME_HEADER_BYTES = 8;
export const FRAME_ALIGN = 8;
/** Arbitrary odd constant; a zeroed or random header is unlikely to pass `len ^ FRAME_MAGIC`. */
export const FRAME_MAGIC = 0x5a3c_96e1 | 0;
export const WRAP_MARKER = -1;

/** Smallest and largest data area, in bytes. 2^30 keeps positions comparable modulo 2^32. */
export const MIN_RING_CAPACITY_BYTES = 64;
export const MAX_RING_CAPACITY_BYTES = 2 ** 30;
export const DEFAULT_RING_CAPACITY_BYTES = 256 * 1024;
/** Dictionary area of a ring: a multiple of 64 bytes up to MAX_RING_DICT_BYTES (0 = none). */
export const DEFAULT_RING_DICT_BYTES = 4096;
export const MAX_RING_DICT_BYTES = 1024 * 1024;

/**
 * Doorbell SharedArrayBuffer: one per receiving thread, shared by every ring
 * that feeds it.
 *
 *   Int32 slot 0 DOORBELL_SEQ     bumped by a producer that finds the consumer parked
 *   Int32 slot 1 CONSUMER_PARKED  1 while the consumer is parked (or about to park)
 *   Int32 slot 2 SENDER_SLOTS     how many rings the bitmap covers (fixed at creation)
 *   Int32 slot 3 MAIL_PENDING     messages admitted to the counted lanes and not yet released
 *   Int32 slot 4 MAIL_CAPACITY    mailbox bound in messages; 0 = bounded only by ring bytes
 *   Int32 slot 5 MAIL_OVERFLOW    what a sender does at the bound (OVERFLOW_* code)
 *   Int32 slot 6 MAIL_WAIT_MS     how long a `backpressure` sender waits for room
 *   Int32 slot 8 BREAKER_STATE    the receiver's circuit breaker, shared by all its callers (BREAKER_*)
 *   Int32 slot 9 BREAKER_FAILURES consecutive failed asks to the receiver
 *   Int32 slot 10 BREAKER_THRESHOLD failures that open the breaker; 0 = no breaker
 *   Int32 slot 11 BREAKER_RESET_MS how long it stays open before one probe is let through
 *   Int32 slot 12 BREAKER_REJECTED asks refused fast by the open breaker (all callers)
 *   Int32 slot 13 BREAKER_OPENED   times the breaker opened
 *   Int32 slot 7  NOTIFIES         wake-ups producers have sent (one per park at most)
 *   Int64 index 7 (bytes 56..63) BREAKER_REOPEN_AT  Date.now() at which an open breaker lets a probe through
 *   Int32 slots 16..              READY bitmap: bit i of word i>>5 set = ring i has frames
 *
 * The READY bitmap starts on its own cache line: producers touch it on every
 * frame, the parked flag only when idle.
 */
export const DOORBELL_SEQ = 0;
export const CONSUMER_PARKED = 1;
export const SENDER_SLOTS = 2;
export const MAIL_PENDING = 3;
export const MAIL_CAPACITY = 4;
export const MAIL_OVERFLOW = 5;
export const MAIL_WAIT_MS = 6;
export const NOTIFIES = 7;
export const BREAKER_STATE = 8;
export const BREAKER_FAILURES = 9;
export const BREAKER_THRESHOLD = 10;
export const BREAKER_RESET_MS = 11;
export const BREAKER_REJECTED = 12;
export const BREAKER_OPENED = 13;
/** Index into a BigInt64Array over the doorbell (int32 slots 14 and 15). */
export const BREAKER_REOPEN_AT_I64 = 7;

export const OVERFLOW_BACKPRESSURE = 0;
export const OVERFLOW_DROP_NEWEST = 1;
export const OVERFLOW_DROP_OLDEST = 2;
export const OVERFLOW_FAIL = 3;

export const BREAKER_CLOSED = 0;
export const BREAKER_OPEN = 1;
export const BREAKER_HALF_OPEN = 2;
export const READY_BITMAP = 16;

export const DEFAULT_SENDER_SLOTS = 64;
export const MAX_SENDER_SLOTS = 4096;

export function doorbellBytes(senderSlots: number): number {
  return (READY_BITMAP + Math.ceil(senderSlots / 32)) * 4;
}

/** Total size a frame with `len` payload bytes occupies in the data area. */
export function frameBytes(len: number): number {
  return FRAME_HEADER_BYTES + ((len + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1));
}

/**
 * The largest payload a ring of `capacity` bytes takes. A frame may be at most
 * half the data area: then, however the positions fall, an empty ring always
 * has room for it either before the end or, after a wrap marker, at the start.
 */
export function maxPayloadBytes(capacity: number): number {
  return capacity / 2 - FRAME_HEADER_BYTES;
}
