// Internals for ringmaster's own tests and benchmarks: the data plane's parts
// (rings, doorbells, the codec, inboxes and outboxes, the switchboard). Not in
// the package's `exports`, so no user code depends on them; the public API is
// src/index.ts.

export { createRing, RingReader, RingWriter, RESERVE_CLOSED, RESERVE_FULL, createDoorbell, Doorbell, DEFAULT_RING_CAPACITY_BYTES, DEFAULT_SENDER_SLOTS, MAX_SENDER_SLOTS, frameBytes, maxPayloadBytes } from './ring/index.js';
export { Codec, RecordDecoder, RecordEncoder, MAX_SHARED_STRUCTURES } from './codec/index.js';
export { Inbox, Outbox, Endpoint, Switchboard, Wiring, DEFAULT_FAIR_BATCH, writeEncoded, writeEnvelope, writeFrame, laneKey } from './transport/index.js';

export type { ParkResult, SpaceResult, WriteResult } from './ring/index.js';
export type { CodecOptions } from './codec/index.js';
export type { ControlPort, EnvelopeHandler, FrameHandler, InboxDescriptor, InboxOptions, Lane, RegisterOptions, RingGrant, TransportToMain, TransportToWorker } from './transport/index.js';
export { SpinBudget, SEAT_STALE_MS, processSpinBudget } from './ring/spin-budget.js';
export { Parking } from './transport/parking.js';
export type { SpinPolicy, SpinStats } from './transport/parking.js';
