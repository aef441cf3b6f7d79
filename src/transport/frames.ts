import type { Codec, Envelope } from '../codec/envelope.js';
import { MessageTooLargeError } from '../errors.js';
import { RESERVE_CLOSED, RESERVE_FULL, type RingWriter, type WriteResult } from '../ring/ring.js';

/**
 * Encode `env` with `codec` and write it to `ring` as one frame, without
 * blocking. Returns 'full' or 'closed' without writing anything when the
 * frame cannot go in; throws MessageTooLargeError when it never could.
 *
 * The message is packed into the codec's reusable scratch buffer and then
 * copied once into the ring (one memcpy; ~100 B for a typical message).
 * Packing straight into ring memory is not done: msgpackr may reallocate its
 * target in the middle of a pack and cannot be bounded to a reserved region,
 * so a message larger than the room left could write over frames the
 * consumer has not read. The copy also lets the size limit be checked before
 * a single byte reaches the ring.
 */
export function writeEnvelope(ring: RingWriter, codec: Codec, env: Envelope): WriteResult {
  const size = codec.encode(env);
  if (size > ring.maxPayload) {
    throw new MessageTooLargeError(size, ring.maxPayload, `message to '${env.to}' (ring capacity ${ring.capacity})`);
  }
  const off = ring.reserve(size);
  if (off === RESERVE_FULL) return 'full';
  if (off === RESERVE_CLOSED) return 'closed';
  codec.encoded.copy(ring.bytes, off, codec.encodedStart, codec.encodedEnd);
  ring.commit();
  return 'written';
}
