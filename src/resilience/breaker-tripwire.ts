import { ConsecutiveBreaker, CountBreaker, SamplingBreaker, type CircuitState, type IBreaker } from 'cockatiel';

/** When the failure rate is judged: over the last `windowCalls` calls, or the last `windowMs` ms (whichever is set). */
export interface ResolvedFailureRate {
  /** Fraction of failed calls in the window above which the circuit opens. */
  threshold: number;
  windowCalls: number | null;
  windowMs: number | null;
  /** Calls the window must hold before the rate counts (the minimum throughput). */
  minimumCalls: number;
}

/** Which condition opened the circuit. */
export type Trip = 'consecutive-failures' | 'failure-rate';

/**
 * A cockatiel IBreaker that opens on either of two cockatiel breakers:
 * ConsecutiveBreaker (n failures in a row) or, for the rate, CountBreaker
 * (a window of calls) / SamplingBreaker (a window of time). cockatiel's
 * circuit takes one breaker; this feeds every call to both and remembers
 * which one tripped, for the `breaker-opened` event.
 */
export class TripWire implements IBreaker {
  readonly #consecutive: number | false;
  readonly #rate: ResolvedFailureRate | false;
  #byCount: ConsecutiveBreaker | null = null;
  #byRate: CountBreaker | SamplingBreaker | null = null;
  #lastTrip: Trip = 'consecutive-failures';

  constructor(consecutive: number | false, rate: ResolvedFailureRate | false) {
    this.#consecutive = consecutive;
    this.#rate = rate;
    this.reset();
  }

  get lastTrip(): Trip {
    return this.#lastTrip;
  }

  /** cockatiel reads and writes this to serialise a circuit (toJSON / initialState). */
  get state(): unknown {
    return { consecutive: this.#byCount?.state ?? null, rate: this.#byRate?.state ?? null };
  }

  set state(value: unknown) {
    const v = value as { consecutive: unknown; rate: unknown };
    if (this.#byCount) this.#byCount.state = v.consecutive as number;
    if (this.#byRate) this.#byRate.state = v.rate;
  }

  success(state: CircuitState): void {
    this.#byCount?.success();
    this.#byRate?.success(state);
  }

  failure(state: CircuitState): boolean {
    // Both see every failure, so neither window misses one the other reacted to.
    const byCount = this.#byCount?.failure() ?? false;
    const byRate = this.#byRate?.failure(state) ?? false;
    if (byCount) this.#lastTrip = 'consecutive-failures';
    else if (byRate) this.#lastTrip = 'failure-rate';
    return byCount || byRate;
  }

  /** Forget every call seen so far (a manual reset). */
  reset(): void {
    this.#byCount = this.#consecutive === false ? null : new ConsecutiveBreaker(this.#consecutive);
    const rate = this.#rate;
    if (rate === false) this.#byRate = null;
    else if (rate.windowMs !== null) {
      // SamplingBreaker counts a minimum throughput in calls per second over its window.
      this.#byRate = new SamplingBreaker({ threshold: rate.threshold, duration: rate.windowMs, minimumRps: (rate.minimumCalls * 1000) / rate.windowMs });
    } else {
      this.#byRate = new CountBreaker({ threshold: rate.threshold, size: rate.windowCalls!, minimumNumberOfCalls: rate.minimumCalls });
    }
  }
}
