import type { Codec, Envelope } from '../codec/envelope.js';
import { copyFrameBytes } from '../codec/bytes.js';
import type { RecordEncoder } from '../codec/records.js';
import { MessageTooLargeError } from '../errors.js';
import { RESERVE_CLOSED, RESERVE_FULL, type RingWriter, type WriteResult } from '../ring/ring.js';

/**
 * Encode `env` with `codec` and write it to `ring` as one frame, without
 * blocking. Returns 'full' or 'closed' without writing anything when the
 * frame cannot go in; throws MessageTooLargeError when it never could.
 * `records` is the ring's own record encoder (see codec/records.ts); without
 * it the frame is self-contained.
 *
 * The message is packed into the codec's reusable scratch buffer and then
 * copied once into the ring (~100 B for a typical message, word by word:
 * codec/bytes.ts).
 * Packing straight into ring memory is not done: msgpackr may reallocate its
 * target in the middle of a pack and cannot be bounded to a reserved region,
 * so a message larger than the room left could write over frames the
 * consumer has not read. The copy also lets the size limit be checked before
 * a single byte reaches the ring.
 */
export function writeEnvelope(ring: RingWriter, codec: Codec, env: Envelope, records: RecordEncoder | null = null): WriteResult {
  codec.encode(env, records);
  return writeEncoded(ring, codec, env.to);
}

/**
 * Write what `codec` encoded last into `ring` (again): a self-contained
 * frame goes into each subscriber's ring of a publish this way, encoded once.
 * `to` names the receiver in the error for a frame the ring can never hold.
 */
export function writeEncoded(ring: RingWriter, codec: Codec, to: string): WriteResult {
  const size = codec.encodedEnd - codec.encodedStart;
  if (size > ring.maxPayload) {
    throw new MessageTooLargeError(size, ring.maxPayload, `message to '${to}' (ring capacity ${ring.capacity})`);
  }
  const off = ring.reserve(size);
  if (off === RESERVE_FULL) return 'full';
  if (off === RESERVE_CLOSED) return 'closed';
  copyFrameBytes(codec.encoded, codec.encodedStart, ring.bytes, off, size);
  ring.commit();
  return 'written';
}

/**
 * Write `frame[0..size)`, a self-contained encoded envelope, into `ring` as
 * is (see writeEncoded). A frame whose buffer is rounded up to 4 bytes is
 * copied word by word.
 */
export function writeFrame(ring: RingWriter, frame: Uint8Array, size: number, to: string): WriteResult {
  if (size > ring.maxPayload) {
    throw new MessageTooLargeError(size, ring.maxPayload, `message to '${to}' (ring capacity ${ring.capacity})`);
  }
  const off = ring.reserve(size);
  if (off === RESERVE_FULL) return 'full';
  if (off === RESERVE_CLOSED) return 'closed';
  copyFrameBytes(frame, 0, ring.bytes, off, size);
  ring.commit();
  return 'written';
}
