import { Codec, type Envelope } from '../codec/envelope.js';
import { RecordEncoder } from '../codec/records.js';
import { RingTimeoutError, RingClosedError, RingFullError } from '../errors.js';
import { Doorbell } from '../ring/doorbell.js';
import { RingWriter, type WriteResult } from '../ring/ring.js';
import { SharedBreaker } from './breaker.js';
import { writeEnvelope } from './frames.js';
import { MailboxGate } from './mailbox.js';
import type { RingGrant } from './protocol.js';

/**
 * The sending side towards one receiver: a RingWriter on the ring the
 * switchboard granted, the ring's record structures, and a codec. Lives in
 * the sending thread; writes go straight into the receiver's inbox memory.
 */
export class Outbox {
  readonly to: string;
  readonly writer: RingWriter;
  /** The receiver's mailbox bound (shared by all its senders). */
  readonly gate: MailboxGate;
  /** The receiver's circuit breaker for asks (shared by all its callers). */
  readonly breaker: SharedBreaker;
  /** This ring's record structures (kept in the ring, so they outlive this thread); null for a plain ring (self-contained frames). */
  readonly records: RecordEncoder | null;
  readonly #codec: Codec;

  constructor(grant: RingGrant, codec: Codec = new Codec()) {
    this.to = grant.to;
    this.writer = new RingWriter(grant.ring, new Doorbell(grant.doorbell), grant.slot);
    this.gate = new MailboxGate(grant.doorbell);
    this.breaker = new SharedBreaker(grant.doorbell);
    this.records = grant.plain ? null : new RecordEncoder(this.writer);
    this.#codec = codec;
  }

  /** Never blocks: 'written', or 'full' / 'closed' with nothing written. */
  trySend(env: Envelope): WriteResult {
    return writeEnvelope(this.writer, this.#codec, env, this.records);
  }

  /** Throws RingFullError / RingClosedError instead of returning them. */
  send(env: Envelope): void {
    const r = writeEnvelope(this.writer, this.#codec, env, this.records);
    if (r !== 'written') throw this.#error(r);
  }

  /** Any thread: wait up to `timeoutMs` for room without blocking the event loop. */
  async sendAsync(env: Envelope, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = writeEnvelope(this.writer, this.#codec, env, this.records);
      if (r === 'written') return;
      if (r === 'closed') throw this.#error(r);
      const size = this.#codec.encodedEnd - this.#codec.encodedStart;
      const s = await this.writer.waitForSpaceAsync(size, Math.max(0, deadline - performance.now()));
      if (s === 'closed') throw this.#error('closed');
      if (s === 'timed-out') throw new RingTimeoutError(`send to '${this.to}': no room in its ring within ${timeoutMs} ms`);
    }
  }

  #error(r: 'full' | 'closed'): Error {
    return r === 'full'
      ? new RingFullError(`send to '${this.to}': its ring (${this.writer.capacity} bytes) is full`)
      : new RingClosedError(`send to '${this.to}': its inbox is closed`);
  }
}
