import { MAX_TIMEOUT_MS } from '../defaults.js';
import { AskTimeoutError, InvalidOptionError } from '../errors.js';

interface Pending {
  actor: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Outstanding asks of one thread. Every entry settles exactly once: by its
 * reply, by an error the system sends on the target's behalf, by its timeout,
 * or by `rejectAll` when the thread's side shuts down.
 */
export class AskTable {
  readonly #pending = new Map<number, Pending>();
  /**
   * Ids start at a random point: reply rings outlive incarnations, so a late
   * reply meant for a dead incarnation must not match a fresh ask of the next.
   */
  #nextId = 1 + Math.floor(Math.random() * 0x3fffffff);

  /** Register an ask to `actor`; returns its correlation id and the promise. */
  open<R>(actor: string, timeoutMs: number): { id: number; promise: Promise<R> } {
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      throw new InvalidOptionError('ask timeout', `must be a number of ms from 1 to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`);
    }
    const id = this.#nextId++;
    if (this.#nextId > 0x7fffffff) this.#nextId = 1;
    const promise = new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AskTimeoutError(actor, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { actor, resolve: resolve as (v: unknown) => void, reject, timer });
    });
    return { id, promise };
  }

  /** Settle ask `id` with its reply; a reply from another actor than the one asked is ignored. */
  resolve(id: number, value: unknown, from?: string): boolean {
    if (from !== undefined && this.#pending.get(id)?.actor !== from) return false;
    const p = this.#take(id);
    p?.resolve(value);
    return p !== undefined;
  }

  reject(id: number, err: Error): boolean {
    const p = this.#take(id);
    p?.reject(err);
    return p !== undefined;
  }

  /** Settle every ask to `actor` (or all asks) with the error `make` builds. */
  rejectAll(make: (actor: string) => Error, actor?: string): void {
    for (const [id, p] of this.#pending) {
      if (actor !== undefined && p.actor !== actor) continue;
      this.#take(id);
      p.reject(make(p.actor));
    }
  }

  get size(): number {
    return this.#pending.size;
  }

  #take(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.#pending.delete(id);
    return p;
  }
}
