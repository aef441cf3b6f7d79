export { Codec, DEFAULT_MAX_MESSAGE_BYTES } from './envelope.js';
export type { CodecOptions, Envelope, EnvelopeKind, Priority } from './envelope.js';
