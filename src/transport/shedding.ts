import type { Envelope } from '../codec/envelope.js';
import { SYSTEM_QUEUE } from './lanes.js';
import type { MailboxGate } from './mailbox.js';

/** Takes a message the inbox shed unhandled (to dead-letter it, and fail its ask). */
export type ShedHandler = (env: Envelope) => void;

/**
 * The receiver's half of `drop-oldest`: senders are always admitted, and
 * while the mailbox holds more than its bound the receiver sheds the oldest
 * mail it reads instead of handling it, so the newest gets in. System
 * messages are never shed: they are outside the bound.
 */
export class Shedder {
  readonly #gate: MailboxGate;
  readonly #onShed: ShedHandler | undefined;

  constructor(gate: MailboxGate, onShed: ShedHandler | undefined) {
    this.#gate = gate;
    this.#onShed = onShed;
  }

  /** Whether the message just read from mail queue `queue` is to be shed rather than handled. */
  due(queue: number): boolean {
    return this.#onShed !== undefined && queue !== SYSTEM_QUEUE && this.#gate.excess() > 0 && this.#gate.overflow === 'drop-oldest';
  }

  /** Hand a shed message on; the caller has released it from its ring. */
  shed(env: Envelope): void {
    this.#onShed!(env);
  }
}
