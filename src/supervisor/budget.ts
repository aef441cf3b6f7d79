import { MAX_TIMEOUT_MS } from '../defaults.js';
import type { ResolvedRestartBackoff } from './spec.js';

/**
 * OTP's restart intensity: a supervisor may restart children at most
 * `intensity` times within any `periodMs` window; one more and it fails.
 */
export class RestartBudget {
  readonly intensity: number;
  readonly periodMs: number;
  #stamps: number[] = [];

  constructor(intensity: number, periodMs: number) {
    this.intensity = intensity;
    this.periodMs = periodMs;
  }

  /** Record a restart at `now`; false when it exceeds the budget. */
  spend(now: number): boolean {
    this.#stamps = this.#stamps.filter((t) => now - t < this.periodMs);
    this.#stamps.push(now);
    return this.#stamps.length <= this.intensity;
  }

  /** Restarts still allowed in the current window. */
  remaining(now: number): number {
    return Math.max(0, this.intensity - this.#stamps.filter((t) => now - t < this.periodMs).length);
  }

  reset(): void {
    this.#stamps = [];
  }
}

/**
 * Akka-style exponential backoff between restarts of one child:
 * min · 2^n capped at max, stretched by up to randomFactor, where n counts
 * the restarts since the child last stayed up for `resetAfterMs`.
 *
 * Not the retry backoff (ResolvedRetryBackoff in src/resilience/backoff.ts),
 * on purpose: this one lives as long as the child, across incarnations, and
 * forgets its count by uptime; its jitter only lengthens a delay, so a
 * crashing child never comes back sooner than `min · 2^n`. A retry backoff
 * lives for one call, counts its attempts, and its jitter (cockatiel's full,
 * half or decorrelated) spreads many callers apart, mostly below the nominal
 * delay. The resilience toolkit also loads in a worker without the
 * supervisor, so neither could be built on the other.
 */
export class RestartBackoff {
  readonly #spec: ResolvedRestartBackoff;
  readonly #random: () => number;
  #consecutive = 0;

  constructor(spec: ResolvedRestartBackoff, random: () => number = Math.random) {
    this.#spec = spec;
    this.#random = random;
  }

  /** Delay before the next restart, given how long the incarnation that just ended ran. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.#spec.resetAfterMs) this.#consecutive = 0;
    const base = Math.min(this.#spec.maxMs, this.#spec.minMs * 2 ** this.#consecutive);
    this.#consecutive++;
    // The stretch may carry a `max` near MAX_TIMEOUT_MS past what a timer can wait.
    return Math.min(MAX_TIMEOUT_MS, Math.round(base * (1 + this.#random() * this.#spec.randomFactor)));
  }
}
