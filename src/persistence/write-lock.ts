/**
 * The process's writers of one database take turns here before they ask
 * SQLite for its write lock. SQLite's own wait for a busy database sleeps in
 * steps of milliseconds; this one is a futex word in shared memory: a writer
 * that finds it taken sleeps in `Atomics.wait` until the holder's release
 * wakes it, microseconds later. It is an optimisation, not what makes
 * writes safe: SQLite still orders them (and writers of other processes),
 * so a waiter that has waited `MAX_WAIT_MS` (a holder that died mid-write)
 * goes ahead without it.
 */

import { threadId } from 'node:worker_threads';

/** Bytes of the shared buffer a WriteLock lives in (made once per system, on the main thread): the lock word, then its holder's threadId. */
export const WRITE_LOCK_BYTES = 8;
const FREE = 0;
const HELD = 1;
/** How long a waiter spins before it sleeps, ms: about one commit (a sleep and wake-up costs as much again). */
const SPIN_MS = 0.02;
/** How long a waiter waits for a holder before going ahead without the lock, ms. */
export const MAX_WAIT_MS = 250;

export class WriteLock {
  readonly #word: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#word = new Int32Array(buffer, 0, 2);
  }

  /**
   * The main thread, when a worker's thread has ended: if it died holding the
   * lock (terminated mid-write, its `finally` never ran), set it free now
   * rather than after MAX_WAIT_MS.
   */
  static releaseFor(buffer: SharedArrayBuffer | null, deadThread: number): void {
    if (!buffer) return;
    const w = new Int32Array(buffer, 0, 2);
    if (Atomics.load(w, 1) !== deadThread || Atomics.load(w, 0) !== HELD) return;
    Atomics.store(w, 1, 0);
    Atomics.store(w, 0, FREE);
    Atomics.notify(w, 0, 1);
  }

  /** Run `fn` holding the lock (this thread blocks while another writer holds it). */
  run<T>(fn: () => T): T {
    this.#acquire();
    Atomics.store(this.#word, 1, threadId);
    try {
      return fn();
    } finally {
      Atomics.store(this.#word, 1, 0);
      Atomics.store(this.#word, 0, FREE);
      Atomics.notify(this.#word, 0, 1);
    }
  }

  /** Returns holding the lock: taken when free, or taken over once the wait ran out (its holder is presumed gone). */
  #acquire(): void {
    const w = this.#word;
    const spinUntil = performance.now() + SPIN_MS;
    do if (Atomics.compareExchange(w, 0, FREE, HELD) === FREE) return;
    while (performance.now() < spinUntil);
    const deadline = performance.now() + MAX_WAIT_MS;
    for (;;) {
      if (Atomics.compareExchange(w, 0, FREE, HELD) === FREE) return;
      const left = deadline - performance.now();
      if (left <= 0) {
        // Taken over: its release sets it free again for everyone.
        Atomics.store(w, 0, HELD);
        return;
      }
      Atomics.wait(w, 0, HELD, left);
    }
  }
}
