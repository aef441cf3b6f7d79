export { Codec } from './envelope.js';
export type { CodecOptions, Envelope, EnvelopeHeader, EnvelopeKind, Priority } from './envelope.js';
export { MAX_SHARED_STRUCTURES, RecordDecoder, RecordEncoder } from './records.js';
export type { DictSink, DictSource } from './records.js';
