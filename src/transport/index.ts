export { Inbox, DEFAULT_FAIR_BATCH } from './inbox.js';
export type { InboxOptions, FrameHandler, EnvelopeHandler } from './inbox.js';
export { Outbox } from './outbox.js';
export { Endpoint } from './endpoint.js';
export type { ControlPort } from './endpoint.js';
export { Switchboard } from './switchboard.js';
export type { RegisterOptions } from './switchboard.js';
export { Wiring } from './wiring.js';
export type { InboxDescriptor, Lane, RingGrant, TransportToMain, TransportToWorker } from './protocol.js';
