import { isMainThread } from 'node:worker_threads';
import { InvalidOptionError } from '../errors.js';
import type { Doorbell, ParkResult } from '../ring/doorbell.js';
import { MAX_SPIN_MICROS } from '../defaults.js';
import type { SpinBudget } from '../ring/spin-budget.js';
import { oversubscribedLately } from './oversubscribed.js';

/** How a receiver spins before it parks. */
export interface SpinPolicy {
  /** Longest spin before parking, µs (0 = always park at once). */
  micros: number;
  /**
   * Spin only while the recent gaps between messages say the next one is
   * near (shorter than `micros`), and back off after fruitless spins. Off:
   * spin the whole budget after every message that was work.
   */
  adaptive: boolean;
  /** Seats shared by every spinning thread of the process; null = no limit. */
  budget: SpinBudget | null;
  /**
   * Does the machine have more runnable threads than cores? Asked before a
   * spin (a look up to 1 ms old will do) and when a spin was preempted
   * (`fresh`: look now). Default: oversubscribedLately (/proc/loadavg).
   */
  machineBusy?: (fresh: boolean) => boolean;
}

/** Spin stats of one receiver. */
export interface SpinStats {
  /** Spins that found work. */
  hits: number;
  /** Spins that ran out and parked. */
  misses: number;
  /** Waits that parked at once: gaps too long to spin through, or no seat free. */
  skipped: number;
  /** Of those, the ones with no seat free in the process's spin budget. */
  noSeat: number;
  /** Of those, the ones made while the machine had more runnable threads than cores. */
  busy: number;
  /** Spins cut short because the thread was descheduled in the middle of them. */
  preempted: number;
  /** Of those, the ones with more runnable threads than cores: spinning then stopped for every thread for a while. */
  contended: number;
}

/** Weight of the newest gap in the running average, as a shift (1/4). */
const GAP_SHIFT = 2;
/** After this many fruitless spins in a row, park at once until traffic is seen to be close again. */
const MISSES_TO_BACK_OFF = 2;
/**
 * How long a receiver that wants to spin waits for a seat, ms. Two threads
 * trading messages (an ask and its reply) take turns: one works while the
 * other spins, and the seat passes between them a few hundred ns after each
 * message. Without this patience the one that just worked would find the
 * seat still taken and park.
 */
const SEAT_PATIENCE_MS = 0.003;
/**
 * A gap this long between two clock reads of a spin means the thread was
 * descheduled in the middle of it, ms: the machine has more runnable threads
 * than cores. A spinner then only takes CPU from the threads doing the work,
 * and, descheduled, sees no message until it runs again (a parked thread is
 * woken at once), so spinning stops for CONTENDED_MS.
 */
const PREEMPTED_MS = 0.03;
const CONTENDED_MS = 50;

/**
 * How an inbox's consumer waits for work: spin while the next frame is
 * likely near, then park on the doorbell (`Atomics.wait` in a worker,
 * `Atomics.waitAsync` anywhere).
 *
 * Waking a parked thread costs tens of µs; spinning costs a core. So a
 * receiver spins only when it is worth it and the machine can afford it:
 * - right after it took work (an idle actor, woken by a timeout or a control
 *   message, never spins);
 * - with `adaptive`, only while the running average of the gaps between its
 *   messages is shorter than the spin, and not after fruitless spins;
 * - only with a seat in the process's spin budget (by default one fewer than
 *   the cores), so many busy receivers on few cores park rather than spin
 *   against the threads doing the work.
 */
export class Parking {
  readonly #doorbell: Doorbell;
  readonly #hasWork: () => boolean;
  readonly #spinMs: number;
  readonly #adaptive: boolean;
  readonly #budget: SpinBudget | null;
  readonly #machineBusy: (fresh: boolean) => boolean;
  /** Work was taken since the consumer last waited: only then is spinning worth a core. */
  #busySinceWait = false;
  /** Running average of the time from starting to wait to work arriving, ms. */
  #gapMs = 0;
  #misses = 0;
  /** Spinning is off until then (performance.now() ms) after a preempted spin; with a budget, the budget says so for every thread. */
  #contendedUntil = 0;
  readonly stats: SpinStats = { hits: 0, misses: 0, skipped: 0, noSeat: 0, busy: 0, preempted: 0, contended: 0 };

  constructor(doorbell: Doorbell, policy: SpinPolicy, hasWork: () => boolean) {
    if (!(policy.micros >= 0 && policy.micros <= MAX_SPIN_MICROS)) {
      throw new InvalidOptionError('spin.micros', `must be a number from 0 to ${MAX_SPIN_MICROS}, got ${policy.micros}`);
    }
    this.#doorbell = doorbell;
    this.#spinMs = policy.micros / 1000;
    this.#adaptive = policy.adaptive;
    this.#budget = policy.budget;
    this.#machineBusy = policy.machineBusy ?? oversubscribedLately;
    this.#hasWork = hasWork;
  }

  /** The consumer just took work: the next frame is likely close behind. */
  busy(): void {
    this.#busySinceWait = true;
  }

  /** Worker threads: spin if worth it, then block until a sender rings or `timeoutMs` passes. */
  wait(timeoutMs: number): ParkResult {
    const from = performance.now();
    if (this.#spin(from)) return 'ready';
    const r = this.#doorbell.park(timeoutMs);
    this.#arrived(from, r);
    return r;
  }

  /**
   * Spin now, on any thread, if it is worth it (see the class comment); true
   * if work showed up. The main thread uses it to wait a few µs for the
   * reply to an ask it just sent instead of a trip through its event loop.
   */
  spin(): boolean {
    return this.#spin(performance.now());
  }

  /** Any thread: spin (workers only), then wait without blocking the event loop. */
  async waitAsync(timeoutMs: number): Promise<ParkResult> {
    if (isMainThread) {
      // The main thread's park is its event loop's idle time, not a gap its
      // spins could bridge: what it waits for is taught with `learn`.
      return this.#hasWork() ? 'ready' : this.#doorbell.parkAsync(timeoutMs);
    }
    const from = performance.now();
    if (this.#spin(from)) return 'ready';
    const r = await this.#doorbell.parkAsync(timeoutMs);
    this.#arrived(from, r);
    return r;
  }

  /** A park ended: learn the gap (a timeout or a wake without work counts as a long one). */
  #arrived(from: number, r: ParkResult): void {
    if (!this.#adaptive) return;
    const gap = r === 'ready' && this.#hasWork() ? performance.now() - from : Math.max(performance.now() - from, this.#spinMs * 4);
    this.#learn(gap);
  }

  /** Teach the adaptive spin a gap seen from outside: how long work took to arrive after the caller began to wait for it, ms. */
  learn(gapMs: number): void {
    if (this.#adaptive) this.#learn(gapMs);
  }

  #learn(gapMs: number): void {
    this.#gapMs += (gapMs - this.#gapMs) / (1 << GAP_SHIFT);
  }

  /** Spin until work shows up or the budget runs out; true if work did. */
  #spin(from: number): boolean {
    if (this.#hasWork()) return true;
    const recent = this.#busySinceWait;
    this.#busySinceWait = false;
    if (this.#spinMs <= 0 || !recent) return false;
    const stats = this.stats;
    if (this.#budget ? this.#budget.contended : from < this.#contendedUntil) {
      stats.skipped++;
      return false;
    }
    if (this.#adaptive && (this.#gapMs > this.#spinMs || this.#misses >= MISSES_TO_BACK_OFF)) {
      stats.skipped++;
      // Backed off: the park that follows measures the gap, and a short one
      // lets the next wait spin again.
      if (this.#misses >= MISSES_TO_BACK_OFF) this.#misses = 0;
      return false;
    }
    if (this.#machineBusy(false)) {
      // No core free for a spinner: it would take the CPU from threads with work.
      stats.skipped++;
      stats.busy++;
      return false;
    }
    const seat = this.#budget ? this.#seat(from) : 0;
    if (seat === -2) return true;
    if (seat < 0) {
      stats.skipped++;
      stats.noSeat++;
      return false;
    }
    const found = this.#spinFor(from + this.#spinMs);
    if (this.#budget) this.#budget.leave(seat);
    if (found === null) {
      stats.preempted++;
      // Descheduled mid-spin: stop spinning only if that took the CPU from threads with work (not a hypervisor's steal).
      if (this.#machineBusy(true)) {
        stats.contended++;
        if (this.#budget) this.#budget.markContended(CONTENDED_MS);
        else this.#contendedUntil = performance.now() + CONTENDED_MS;
      }
      const arrived = this.#hasWork();
      if (!arrived) this.#misses++; // fruitless all the same: counts towards backing off
      return arrived;
    }
    if (found) {
      stats.hits++;
      this.#misses = 0;
      if (this.#adaptive) this.#learn(performance.now() - from);
    } else {
      stats.misses++;
      this.#misses++;
    }
    return found;
  }

  /** A seat in the budget, waiting SEAT_PATIENCE_MS for one; -1 = none free, -2 = work arrived meanwhile. */
  #seat(from: number): number {
    const budget = this.#budget!;
    let seat = budget.enter();
    if (seat >= 0) return seat;
    const until = from + SEAT_PATIENCE_MS;
    const doorbell = this.#doorbell;
    do {
      if (doorbell.anyReady()) return -2;
      seat = budget.enter();
      if (seat >= 0) return seat;
    } while (performance.now() < until);
    return -1;
  }

  /** Spin until `until`: true = work came, false = none came, null = the thread was preempted meanwhile. */
  #spinFor(until: number): boolean | null {
    const doorbell = this.#doorbell;
    let last = performance.now();
    for (;;) {
      // Check the bitmap a few times between clock reads: a clock read costs
      // more than a bitmap load.
      for (let i = 0; i < 64; i++) if (doorbell.anyReady()) return true;
      const now = performance.now();
      if (now - last > PREEMPTED_MS) return null;
      if (now >= until) return false;
      last = now;
    }
  }
}
