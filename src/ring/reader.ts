import { RingCorruptError } from '../errors.js';
import {
  CONSUMER_CLOSED,
  FRAMES_READ,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  PRODUCER_CLOSED,
  PRODUCER_WAITING,
  READ_POS,
  SPACE_SEQ,
  WRAP_MARKER,
  WRITE_POS,
  frameBytes,
} from './layout.js';
import { RingView } from './view.js';

/**
 * The consuming end of a ring. Exactly one thread may hold a RingReader for a
 * given buffer at a time.
 *
 * `next()` hands out frames one by one without releasing them; `commit()`
 * releases everything handed out so far. A frame stays in the ring (and is
 * seen again by the next reader of the same buffer) until it is committed:
 * this is what lets a restarted consumer redeliver the message it died on.
 */
export class RingReader extends RingView {
  /** Payload offset in `bytes` and length of the frame last returned by `next()`. */
  offset = 0;
  length = 0;
  #cursor: number;
  #lastStart: number;
  #cachedWrite: number;
  #handedOut = 0;
  #corrupt: RingCorruptError | null = null;
  #committed: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.#cursor = this.#lastStart = this.#committed = Atomics.load(this.hdr, READ_POS);
    this.#cachedWrite = Atomics.load(this.hdr, WRITE_POS);
  }

  /**
   * Advance to the next published frame. Returns false when none is there.
   * Throws RingCorruptError (now and on every later call) for a bad header.
   */
  next(): boolean {
    if (this.#corrupt) throw this.#corrupt;
    let cur = this.#cursor;
    if (cur === this.#cachedWrite) {
      this.#cachedWrite = Atomics.load(this.hdr, WRITE_POS);
      if (cur === this.#cachedWrite) return false;
    }
    let avail = (this.#cachedWrite - cur) >>> 0;
    let off = cur & this.mask;
    let len = this.d32[off >> 2]!;
    if (len === WRAP_MARKER && this.d32[(off >> 2) + 1] === (WRAP_MARKER ^ FRAME_MAGIC)) {
      const tail = this.capacity - off;
      if (tail >= avail) this.#fail(off, `wrap marker at offset ${off} is not followed by a published frame`);
      cur = (cur + tail) | 0;
      avail -= tail;
      off = 0;
      len = this.d32[0]!;
    }
    if ((len ^ FRAME_MAGIC) !== this.d32[(off >> 2) + 1]) {
      this.#fail(off, `frame header at offset ${off} fails its check word (length field ${len})`);
    }
    if (len < 0 || len > this.maxPayload) {
      this.#fail(off, `frame at offset ${off} claims ${len} bytes; this ring holds frames of 0..${this.maxPayload} bytes`);
    }
    const size = frameBytes(len);
    if (size > avail || off + size > this.capacity) {
      this.#fail(off, `frame at offset ${off} of ${len} bytes runs past the ${avail} bytes published`);
    }
    this.#lastStart = cur;
    this.offset = off + FRAME_HEADER_BYTES;
    this.length = len;
    this.#cursor = (cur + size) | 0;
    this.#handedOut++;
    return true;
  }

  /**
   * Release every frame handed out by `next()` so far. A producer waiting for
   * room is woken once half the ring is free, not after every frame: a
   * sender into a full ring then writes a burst per wake-up instead of paying
   * a cross-thread wake for each message. (Half is always enough: a frame is
   * at most half the data area; and a consumer that reads on frees it all.)
   */
  commit(): void {
    if (this.#handedOut === 0) return;
    Atomics.store(this.hdr, READ_POS, (this.#committed = this.#cursor));
    Atomics.add(this.hdr, FRAMES_READ, this.#handedOut);
    this.#handedOut = 0;
    if (Atomics.load(this.hdr, PRODUCER_WAITING) !== 0 && ((Atomics.load(this.hdr, WRITE_POS) - this.#cursor) >>> 0) <= this.capacity >>> 1) {
      this.#wakeProducer();
    }
  }

  /**
   * The ring's read position as this reader last published it: where the
   * oldest frame not yet committed starts. A plain read: the reader is the
   * only writer of READ_POS.
   */
  get committed(): number {
    return this.#committed;
  }

  /** Give back the frame last returned by `next()`: the following `next()` returns it again. */
  rewind(): void {
    if (this.#handedOut === 0) return;
    this.#cursor = this.#lastStart;
    this.#handedOut--;
  }

  /**
   * Hand up to `max` frames to `fn(bytes, offset, length)` and release them.
   * If `fn` throws, the frames before it are released, the one it threw on
   * stays in the ring, and the error propagates.
   */
  drain(max: number, fn: (bytes: Buffer, offset: number, length: number) => void): number {
    let n = 0;
    let inHandler = false;
    try {
      while (n < max && this.next()) {
        inHandler = true;
        fn(this.bytes, this.offset, this.length);
        inHandler = false;
        n++;
      }
    } catch (err) {
      if (inHandler) this.rewind();
      throw err;
    } finally {
      this.commit();
    }
    return n;
  }

  /** True once the producer has closed the ring and every frame it wrote has been handed out. */
  get drained(): boolean {
    return Atomics.load(this.hdr, PRODUCER_CLOSED) !== 0 && this.#cursor === Atomics.load(this.hdr, WRITE_POS);
  }

  /** The consumer is leaving: the producer's next write reports `closed`, and a waiting producer wakes. */
  close(): void {
    Atomics.store(this.hdr, CONSUMER_CLOSED, 1);
    this.#wakeProducer();
  }

  #wakeProducer(): void {
    Atomics.add(this.hdr, SPACE_SEQ, 1);
    Atomics.notify(this.hdr, SPACE_SEQ);
  }

  #fail(offset: number, message: string): never {
    this.#corrupt = new RingCorruptError(message, offset);
    throw this.#corrupt;
  }
}
