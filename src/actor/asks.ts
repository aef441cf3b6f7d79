import { AskTimeoutError } from '../errors.js';

/** Default time an ask waits for its reply, ms. */
export const DEFAULT_ASK_TIMEOUT_MS = 5000;

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
  #nextId = 1;

  /** Register an ask to `actor`; returns its correlation id and the promise. */
  open<R>(actor: string, timeoutMs: number): { id: number; promise: Promise<R> } {
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

  resolve(id: number, value: unknown): boolean {
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
