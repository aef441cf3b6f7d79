import type { Worker } from 'node:worker_threads';
import { ELU_WINDOW_MS } from '../defaults.js';
import type { LoopProbe } from '../health/watchdog.js';
import { THREAD_ID } from '../liveness/liveness.js';
import { threadTimes } from '../liveness/run-queue.js';
import { Doorbell } from '../ring/doorbell.js';

type Elu = ReturnType<Worker['performance']['eventLoopUtilization']>;

/**
 * An actor's event-loop utilisation, read from the main thread
 * (`worker.performance.eventLoopUtilization()`: the worker is not asked, so
 * a busy or blocked loop is measured too), over windows of at least
 * ELU_WINDOW_MS. Every reader in a window (a scrape, `/health`, the
 * dashboard's sampler) gets the same figure: the share of the last finished
 * window the loop was busy, 0..1. One reader no longer resets another's
 * interval.
 */
export class EluWindow {
  #mark: Elu | null = null;
  #markedAt = 0;
  #value = 0;

  /** A new incarnation: a new worker, whose figures start from zero. */
  reset(): void {
    this.#mark = null;
    this.#value = 0;
  }

  read(worker: Worker): number {
    const now = performance.now();
    if (this.#mark === null) {
      this.#mark = worker.performance.eventLoopUtilization();
      this.#markedAt = now;
      // The first reading of an incarnation covers its life so far.
      this.#value = this.#mark.utilization;
    } else if (now - this.#markedAt >= ELU_WINDOW_MS) {
      const next = worker.performance.eventLoopUtilization();
      this.#value = worker.performance.eventLoopUtilization(next, this.#mark).utilization;
      this.#mark = next;
      this.#markedAt = now;
    }
    return Math.min(1, Math.max(0, this.#value));
  }
}

/**
 * The watchdog's view of `worker`'s event loop: its idle time, whether it is
 * parked on `doorbell` (its inbox's), and its thread's time on a CPU and
 * waiting for one (from the OS thread id its host wrote into the `liveness` block).
 */
export function loopProbe(worker: Worker, doorbell: SharedArrayBuffer, liveness: SharedArrayBuffer): LoopProbe {
  const elu = worker.performance.eventLoopUtilization; // a getter that binds a new function each time: take it once
  const bell = new Doorbell(doorbell);
  const live = new Int32Array(liveness, 0, THREAD_ID + 1);
  return { idleMs: () => elu().idle, parked: () => bell.parked, threadTimes: () => threadTimes(Atomics.load(live, THREAD_ID)) };
}
