import type { Logger } from 'pino';
import type { DeadLetter } from '../events.js';
import { MAX_DEAD_LETTER_PAGE, type DeadLetterFilter, type DeadLetterStore, type StoredDeadLetter } from '../persistence/dead-letter-store.js';

/** How often buffered dead letters are written, ms (one transaction for all of them). */
const FLUSH_MS = 100;
/** Most dead letters held while the database is busy or failing; older ones are dropped (and counted). */
const MAX_BUFFERED = 10_000;

/**
 * Durable dead letters (`persistence.deadLetters`): every dead letter of the
 * system is kept in its database with reason, sender, receiver, time and
 * payload, survives restarts, and can be listed and replayed. Written from
 * the main thread in batches, never blocking it for long.
 */
export class DeadLetterArchive {
  readonly #store: DeadLetterStore;
  readonly #resend: (to: string, payload: unknown) => void;
  readonly #log: Logger;
  #buffer: Array<Omit<StoredDeadLetter, 'id' | 'replayedAt'>> = [];
  #timer: NodeJS.Timeout | null = null;
  #lost = 0;
  #closed = false;

  constructor(store: DeadLetterStore, resend: (to: string, payload: unknown) => void, log: Logger) {
    this.#store = store;
    this.#resend = resend;
    this.#log = log;
  }

  add(l: DeadLetter): void {
    if (this.#closed) return;
    this.#buffer.push({ at: l.at, kind: l.kind, from: l.from, to: l.to, reason: l.reason, ...(l.dropped ? { dropped: l.dropped } : {}), payload: l.payload });
    if (this.#buffer.length > MAX_BUFFERED) {
      this.#buffer.shift();
      this.#lost++;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.flush();
    }, FLUSH_MS).unref();
  }

  /** Write what is buffered; on a busy or failing database keep it for the next try. True when nothing is left. */
  flush(): boolean {
    if (this.#buffer.length === 0) return true;
    try {
      this.#store.add(this.#buffer);
      this.#buffer = [];
      if (this.#lost > 0) this.#log.error({ lost: this.#lost }, 'dead letters dropped while the database could not take them');
      this.#lost = 0;
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') this.#log.error({ err, buffered: this.#buffer.length }, 'cannot store dead letters; will try again');
      if (!this.#closed) this.#timer ??= setTimeout(() => ((this.#timer = null), this.flush()), FLUSH_MS).unref();
      return false;
    }
  }

  /** Stored dead letters, newest first (replayed ones included unless `replayed: false`). */
  list(filter: DeadLetterFilter = {}): StoredDeadLetter[] {
    this.flush();
    return this.#store.list(filter, true);
  }

  get(id: number): StoredDeadLetter | undefined {
    this.flush();
    return this.#store.get(id);
  }

  /**
   * Send the matching dead letters again, oldest first, each as a tell from
   * the main thread to its receiver (an ask's asker is gone: its answer
   * would reach no one), and mark them replayed. Skips replayed ones unless
   * `replayed: true`. Resolves with the ids sent.
   */
  replay(filter: DeadLetterFilter = {}): number[] {
    this.flush();
    const letters = this.#store.list({ ...filter, limit: filter.limit ?? MAX_DEAD_LETTER_PAGE }, false, true);
    const sent: number[] = [];
    for (const l of letters) {
      if (l.undecodable !== undefined) {
        this.#log.warn({ id: l.id, to: l.to, reason: l.undecodable }, 'dead letter not replayed: its stored payload cannot be decoded');
        continue;
      }
      try {
        this.#resend(l.to, l.payload);
        sent.push(l.id);
      } catch (err) {
        this.#log.warn({ id: l.id, to: l.to, err }, 'dead letter not replayed');
      }
    }
    this.#store.markReplayed(sent, Date.now());
    return sent;
  }

  /** Write what is left (trying again for up to a second while the file is busy), then let go of the database. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const deadline = Date.now() + 1000;
    while (!this.flush() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.#buffer.length > 0 || this.#lost > 0) this.#log.error({ lost: this.#buffer.length + this.#lost }, 'dead letters not stored: the database could not take them before the stop');
    this.#store.close();
  }
}
