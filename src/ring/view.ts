import { InvalidOptionError } from '../errors.js';
import {
  CAPACITY,
  DICT_BYTES,
  DICT_LENGTH,
  FRAMES_READ,
  FRAMES_WRITTEN,
  FULL_EVENTS,
  MIN_RING_CAPACITY_BYTES,
  READ_POS,
  RING_HEADER_BYTES,
  RING_HEADER_SLOTS,
  WRITE_POS,
  maxPayloadBytes,
} from './layout.js';

/** Views of a ring's shared memory, the same for both ends. */
export class RingView {
  readonly buffer: SharedArrayBuffer;
  /** The data area as a Buffer, so Buffer.copy and msgpackr's Node fast paths apply. */
  readonly bytes: Buffer;
  readonly capacity: number;
  readonly maxPayload: number;
  /** The dictionary area (after the data area): append-only, written by the producer. */
  readonly dict: Buffer;
  protected readonly hdr: Int32Array;
  protected readonly d32: Int32Array;
  protected readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < RING_HEADER_BYTES + MIN_RING_CAPACITY_BYTES) {
      throw new InvalidOptionError('ring', 'must be a SharedArrayBuffer made by createRing()');
    }
    this.buffer = buffer;
    this.hdr = new Int32Array(buffer, 0, RING_HEADER_SLOTS);
    this.capacity = this.hdr[CAPACITY]!;
    const dictBytes = this.hdr[DICT_BYTES]!;
    if (this.capacity + RING_HEADER_BYTES + dictBytes !== buffer.byteLength || (this.capacity & (this.capacity - 1)) !== 0 || dictBytes < 0) {
      throw new InvalidOptionError(
        'ring',
        `header says capacity ${this.capacity} and dictionary ${dictBytes} bytes but the buffer holds ${buffer.byteLength - RING_HEADER_BYTES} bytes after the header`,
      );
    }
    this.mask = this.capacity - 1;
    this.maxPayload = maxPayloadBytes(this.capacity);
    this.bytes = Buffer.from(buffer, RING_HEADER_BYTES, this.capacity);
    this.d32 = new Int32Array(buffer, RING_HEADER_BYTES, this.capacity / 4);
    this.dict = Buffer.from(buffer, RING_HEADER_BYTES + this.capacity, dictBytes);
  }

  /** Bytes of the dictionary area the producer has published. */
  dictLength(): number {
    return Atomics.load(this.hdr, DICT_LENGTH);
  }

  /** Frames published and not yet released by the consumer. */
  depth(): number {
    return (Atomics.load(this.hdr, FRAMES_WRITTEN) - Atomics.load(this.hdr, FRAMES_READ)) >>> 0;
  }

  stats(): { framesWritten: number; framesRead: number; fullEvents: number; usedBytes: number } {
    return {
      framesWritten: Atomics.load(this.hdr, FRAMES_WRITTEN) >>> 0,
      framesRead: Atomics.load(this.hdr, FRAMES_READ) >>> 0,
      fullEvents: Atomics.load(this.hdr, FULL_EVENTS) >>> 0,
      usedBytes: (Atomics.load(this.hdr, WRITE_POS) - Atomics.load(this.hdr, READ_POS)) >>> 0,
    };
  }
}
