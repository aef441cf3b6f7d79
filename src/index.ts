// The public API of ringmaster: every export by name, values first, then types.

export {
  ErrorCodes,
  RingmasterError,
  InvalidOptionError,
  RingFullError,
  RingClosedError,
  RingCorruptError,
  RingTimeoutError,
  MessageTooLargeError,
  EncodeError,
  DecodeError,
  InboxFullError,
  NoSuchActorError,
  NotOnMainThreadError,
} from './errors.js';
export {
  createRing,
  createDoorbell,
  RingReader,
  RingWriter,
  Doorbell,
  RESERVE_CLOSED,
  RESERVE_FULL,
  DEFAULT_RING_CAPACITY_BYTES,
  DEFAULT_SENDER_SLOTS,
  MAX_SENDER_SLOTS,
  frameBytes,
  maxPayloadBytes,
} from './ring/index.js';
export { Codec, DEFAULT_MAX_MESSAGE_BYTES } from './codec/index.js';
export { Inbox, Outbox, Endpoint, Switchboard, Wiring, DEFAULT_FAIR_BATCH, DEFAULT_SPIN_MICROS } from './transport/index.js';

export type { ErrorCode } from './errors.js';
export type { ParkResult, SpaceResult, WriteResult } from './ring/index.js';
export type { CodecOptions, Envelope, EnvelopeKind, Priority } from './codec/index.js';
export type {
  ControlPort,
  EnvelopeHandler,
  FrameHandler,
  InboxDescriptor,
  InboxOptions,
  Lane,
  RegisterOptions,
  RingGrant,
  TransportToMain,
  TransportToWorker,
} from './transport/index.js';
