import type { Logger } from 'pino';
import type { OverflowPolicy } from '../errors.js';
import type { DeadLetter, EventInput } from '../events.js';
import type { DeadLetterArchive } from './dead-letter-archive.js';

/**
 * Messages nobody could take: the latest `limit` kept for inspection, every
 * one counted (in total, per addressee, and per overflow policy that dropped
 * it), logged and put on the event stream.
 */
export class DeadLetterLog {
  readonly #kept: DeadLetter[] = [];
  readonly #limit: number;
  readonly #log: Logger;
  readonly #emit: (e: EventInput) => void;
  readonly #to = new Map<string, number>();
  readonly #droppedTo = new Map<string, Partial<Record<OverflowPolicy, number>>>();
  #count = 0;

  /** The durable copy, when `persistence.deadLetters` is on. */
  archive: DeadLetterArchive | null = null;

  constructor(limit: number, log: Logger, emit: (e: EventInput) => void) {
    this.#limit = limit;
    this.#log = log;
    this.#emit = emit;
  }

  add(letter: Omit<DeadLetter, 'at'>): void {
    const full: DeadLetter = { ...letter, at: Date.now() };
    this.#count++;
    this.#to.set(letter.to, (this.#to.get(letter.to) ?? 0) + 1);
    if (letter.dropped) {
      let d = this.#droppedTo.get(letter.to);
      if (!d) this.#droppedTo.set(letter.to, (d = {}));
      d[letter.dropped] = (d[letter.dropped] ?? 0) + 1;
    }
    this.#kept.push(full);
    if (this.#kept.length > this.#limit) this.#kept.shift();
    this.#log.warn({ to: letter.to, from: letter.from, kind: letter.kind, reason: letter.reason }, 'dead letter');
    this.archive?.add(full);
    this.#emit({ type: 'dead-letter', letter: full });
  }

  list(): DeadLetter[] {
    return this.#kept.slice();
  }

  get count(): number {
    return this.#count;
  }

  /** Dead letters addressed to `actor` over the system's life. */
  countTo(actor: string): number {
    return this.#to.get(actor) ?? 0;
  }

  /** Messages to `actor` its mailbox's overflow policy dropped, by policy. */
  droppedTo(actor: string): Partial<Record<OverflowPolicy, number>> {
    return this.#droppedTo.get(actor) ?? {};
  }
}
