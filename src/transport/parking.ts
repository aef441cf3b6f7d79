import { isMainThread } from 'node:worker_threads';
import { InvalidOptionError } from '../errors.js';
import type { Doorbell, ParkResult } from '../ring/doorbell.js';

/**
 * How an inbox's consumer waits for work: spin a little while traffic is
 * recent, then park on the doorbell (`Atomics.wait` in a worker,
 * `Atomics.waitAsync` anywhere).
 */
export class Parking {
  readonly #doorbell: Doorbell;
  readonly #hasWork: () => boolean;
  readonly #spinMs: number;
  /** Work was taken since the consumer last parked: only then is spinning worth a core. */
  #busySincePark = false;

  /** `spinMicros`: spin budget before parking, µs (0 = park at once). */
  constructor(doorbell: Doorbell, spinMicros: number, hasWork: () => boolean) {
    if (!(spinMicros >= 0)) throw new InvalidOptionError('inbox.spinMicros', `must be a number ≥ 0, got ${spinMicros}`);
    this.#doorbell = doorbell;
    this.#spinMs = spinMicros / 1000;
    this.#hasWork = hasWork;
  }

  /** The consumer just took work: the next frame is likely close behind. */
  busy(): void {
    this.#busySincePark = true;
  }

  /** Worker threads: spin up to the budget, then block until a sender rings or `timeoutMs` passes. */
  wait(timeoutMs: number): ParkResult {
    if (this.#spin()) return 'ready';
    return this.#doorbell.park(timeoutMs);
  }

  /** Any thread: spin (workers only), then wait without blocking the event loop. */
  async waitAsync(timeoutMs: number): Promise<ParkResult> {
    if (!isMainThread && this.#spin()) return 'ready';
    if (this.#hasWork()) return 'ready';
    return this.#doorbell.parkAsync(timeoutMs);
  }

  /**
   * Spin only while traffic is recent: right after taking work, the next
   * frame is likely microseconds away and waking from a park costs ~40 µs;
   * after a quiet wake-up (a timeout, a control message) it is not, and an
   * idle actor must not burn a core.
   */
  #spin(): boolean {
    if (this.#hasWork()) return true;
    const recent = this.#busySincePark;
    this.#busySincePark = false;
    if (this.#spinMs <= 0 || !recent) return false;
    const doorbell = this.#doorbell;
    const until = performance.now() + this.#spinMs;
    do {
      // Check the bitmap a few times between clock reads: a clock read costs
      // more than a bitmap load.
      for (let i = 0; i < 64; i++) if (doorbell.anyReady()) return true;
    } while (performance.now() < until);
    return false;
  }
}
