export { Codec } from './envelope.js';
export type { CodecOptions, Envelope, EnvelopeKind, Priority } from './envelope.js';
