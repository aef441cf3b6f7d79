export { createRing, RingReader, RingWriter, RESERVE_CLOSED, RESERVE_FULL } from './ring.js';
export type { SpaceResult, WriteResult } from './ring.js';
export { createDoorbell, Doorbell } from './doorbell.js';
export type { ParkResult } from './doorbell.js';
export { DEFAULT_RING_CAPACITY_BYTES, DEFAULT_SENDER_SLOTS, MAX_SENDER_SLOTS, frameBytes, maxPayloadBytes } from './layout.js';
