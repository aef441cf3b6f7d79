import type { Codec, Envelope, EnvelopeHeader } from '../codec/envelope.js';
import type { RecordDecoder } from '../codec/records.js';
import { DecodeError, RingCorruptError } from '../errors.js';
import type { RingReader } from '../ring/ring.js';

/** A frame as its ring holds it, and the slot of that ring. */
export type FrameHandler = (bytes: Buffer, offset: number, length: number, slot: number) => void;

export interface FrameErrorHandlers {
  /** A sender's ring turned out corrupt: it is detached, the others go on. */
  onRingCorrupt?: ((slot: number, err: RingCorruptError) => void) | undefined;
  /**
   * A frame was not a valid envelope: it is released (never retried) and
   * handed here with its bytes (self-contained where they could be read:
   * records spelled out, so they mean the same away from the ring).
   */
  onUndecodable?: ((slot: number, err: DecodeError, raw: Uint8Array, header: EnvelopeHeader | null) => void) | undefined;
}

/**
 * Reads frames out of the sender rings of one inbox, decodes them, and routes
 * what goes wrong without stopping the other senders:
 *
 * - a ring whose headers are corrupt (RingCorruptError) is detached, its
 *   sender cut off, and reported to `onRingCorrupt`; with no handler the
 *   error is thrown, since nobody else would learn of it;
 * - a frame that is not an envelope (DecodeError) yields null: the caller
 *   releases it (it would fail again), and `onUndecodable` gets a copy of its
 *   bytes for the dead letters.
 *
 * Each frame is decoded with its ring's record structures (`records[slot]`),
 * and gets `to`, the inbox's owner, which the wire leaves out.
 *
 * Any other error (a handler's own) propagates, and the frame stays in its ring.
 */
export class FrameRouter {
  readonly #codec: Codec;
  readonly #to: string;
  readonly #records: readonly (RecordDecoder | null)[];
  readonly #onRingCorrupt: FrameErrorHandlers['onRingCorrupt'];
  readonly #onUndecodable: FrameErrorHandlers['onUndecodable'];
  readonly #detach: (slot: number) => void;

  constructor(codec: Codec, to: string, records: readonly (RecordDecoder | null)[], handlers: FrameErrorHandlers, detach: (slot: number) => void) {
    this.#codec = codec;
    this.#to = to;
    this.#records = records;
    this.#onRingCorrupt = handlers.onRingCorrupt;
    this.#onUndecodable = handlers.onUndecodable;
    this.#detach = detach;
  }

  /** The envelope in `bytes[offset..offset+length]`, or null when it is not one (already reported). */
  decode(bytes: Buffer, offset: number, length: number, slot: number): Envelope | null {
    const records = this.#records[slot] ?? null;
    try {
      return this.#codec.decode(bytes, offset, length, this.#to, records);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      if (this.#onUndecodable) {
        const { raw, header } = this.#codec.recover(bytes, offset, length, records);
        this.#onUndecodable(slot, err, raw, header);
      }
      return null;
    }
  }

  /** `reader.next()`, false once the ring turns out corrupt. */
  next(reader: RingReader, slot: number): boolean {
    try {
      return reader.next();
    } catch (err) {
      if (!(err instanceof RingCorruptError)) throw err;
      this.#corrupt(slot, err);
      return false;
    }
  }

  /**
   * Hand up to `take` frames of `reader` to `fn` with their slot and release
   * them; returns how many, 0 once the ring turns out corrupt. If `fn`
   * throws, the frames before are released and the one it threw on stays.
   * (`reader.drain` without its per-call closure.)
   */
  drain(reader: RingReader, slot: number, take: number, fn: FrameHandler): number {
    let n = 0;
    let inHandler = false;
    try {
      while (n < take && reader.next()) {
        inHandler = true;
        fn(reader.bytes, reader.offset, reader.length, slot);
        inHandler = false;
        n++;
      }
    } catch (err) {
      if (inHandler) reader.rewind();
      reader.commit();
      if (!(err instanceof RingCorruptError)) throw err; // the frame stays; the slot stays queued
      this.#corrupt(slot, err);
      return 0;
    }
    reader.commit();
    return n;
  }

  #corrupt(slot: number, err: RingCorruptError): void {
    this.#detach(slot);
    if (this.#onRingCorrupt) this.#onRingCorrupt(slot, err);
    else throw err;
  }
}

/** The DecodeError a refused frame is reported with: who sent it, what it was, and why it failed. */
export function undecodableError(receiver: string, err: DecodeError, header: EnvelopeHeader | null): DecodeError {
  const what = header ? `${header.kind}${header.id ? ` ${header.id}` : ''} from '${header.from}'` : 'a frame from an unknown sender';
  return new DecodeError(`${what} to '${receiver}' could not be decoded: ${err.message}`, { cause: err });
}
