import { BrokenCircuitError, circuitBreaker, CircuitState, handleWhen, TaskCancelledError, type CircuitBreakerPolicy } from 'cockatiel';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { CircuitOpenError, type CircuitRejection } from '../errors.js';
import { PolicyEvents, type BreakerState, type EventsOf } from './events.js';
import { TripWire, type ResolvedFailureRate } from './breaker-tripwire.js';
import { counter, gauge, resilienceRegistry, zeroes } from './metrics.js';
import { commonFields, fn, integer, ms, parseOptions, ratio } from './options.js';
import type { Policy, PolicyContext } from './policy.js';

/** Failures in a row that open the circuit. */
export const DEFAULT_BREAKER_CONSECUTIVE_FAILURES = 5;
/** Fraction of failed calls in the window above which the circuit opens. */
export const DEFAULT_BREAKER_FAILURE_RATE = 0.5;
/** Size of the failure-rate window, in calls. */
export const DEFAULT_BREAKER_WINDOW_CALLS = 20;
/** Calls the window must hold before its failure rate counts. */
export const DEFAULT_BREAKER_MINIMUM_CALLS = 10;
/** How long the circuit stays open before it lets a probe through, ms. */
export const DEFAULT_BREAKER_HALF_OPEN_AFTER_MS = 10_000;
/** Probe calls allowed in flight at once while half-open. */
export const DEFAULT_BREAKER_HALF_OPEN_PROBES = 1;
/** Successful probes that close the circuit again. */
export const DEFAULT_BREAKER_SUCCESS_THRESHOLD = 1;

export interface FailureRateOptions {
  threshold?: number;
  /** A window of the last N calls (the default, {@link DEFAULT_BREAKER_WINDOW_CALLS}). */
  windowCalls?: number;
  /** A window of the last N ms instead of calls. */
  windowMs?: number;
  minimumCalls?: number;
}

export interface CircuitBreakerOptions {
  name?: string;
  registry?: Registry;
  /** Failures in a row that open the circuit; false: only the rate counts. */
  consecutiveFailures?: number | false;
  /** Failure rate that opens the circuit; false: only failures in a row count. */
  failureRate?: FailureRateOptions | false;
  halfOpenAfterMs?: number;
  /** Probes allowed in flight at once while half-open; at most `successThreshold`. */
  halfOpenProbes?: number;
  successThreshold?: number;
  /** Which errors count as failures (default: all); others pass through and count as successes. */
  isFailure?: (error: unknown) => boolean;
}

export interface ResolvedCircuitBreakerOptions {
  name: string;
  registry: Registry;
  consecutiveFailures: number | false;
  failureRate: ResolvedFailureRate | false;
  halfOpenAfterMs: number;
  halfOpenProbes: number;
  successThreshold: number;
  isFailure: (error: unknown) => boolean;
}

export type BreakerEvent = EventsOf<'breaker-'>;

const schema = z
  .strictObject({
    ...commonFields,
    consecutiveFailures: z.union([z.literal(false), integer(1)]).optional(),
    failureRate: z
      .union([
        z.literal(false),
        z
          .strictObject({ threshold: ratio.optional(), windowCalls: integer(1).optional(), windowMs: ms(1).optional(), minimumCalls: integer(1).optional() })
          .refine((r) => r.windowCalls === undefined || r.windowMs === undefined, { error: 'must set windowCalls or windowMs, not both', path: ['windowMs'] }),
      ])
      .optional(),
    halfOpenAfterMs: ms(1).optional(),
    halfOpenProbes: integer(1).optional(),
    successThreshold: integer(1).optional(),
    isFailure: fn<(error: unknown) => boolean>().optional(),
  })
  .transform((o, ctx): ResolvedCircuitBreakerOptions => {
    const r = o.failureRate === false ? false : (o.failureRate ?? {});
    const rate: ResolvedFailureRate | false =
      r === false
        ? false
        : {
            threshold: r.threshold ?? DEFAULT_BREAKER_FAILURE_RATE,
            windowCalls: r.windowMs === undefined ? (r.windowCalls ?? DEFAULT_BREAKER_WINDOW_CALLS) : null,
            windowMs: r.windowMs ?? null,
            minimumCalls: r.minimumCalls ?? Math.min(DEFAULT_BREAKER_MINIMUM_CALLS, r.windowCalls ?? DEFAULT_BREAKER_MINIMUM_CALLS),
          };
    const resolved = {
      name: o.name ?? 'breaker',
      registry: o.registry ?? resilienceRegistry,
      consecutiveFailures: o.consecutiveFailures ?? DEFAULT_BREAKER_CONSECUTIVE_FAILURES,
      failureRate: rate,
      halfOpenAfterMs: o.halfOpenAfterMs ?? DEFAULT_BREAKER_HALF_OPEN_AFTER_MS,
      halfOpenProbes: o.halfOpenProbes ?? DEFAULT_BREAKER_HALF_OPEN_PROBES,
      successThreshold: o.successThreshold ?? DEFAULT_BREAKER_SUCCESS_THRESHOLD,
      isFailure: o.isFailure ?? (() => true),
    };
    if (rate && rate.windowCalls !== null && rate.minimumCalls > rate.windowCalls) {
      ctx.addIssue({ code: 'custom', path: ['failureRate', 'minimumCalls'], message: `must be at most failureRate.windowCalls (${rate.windowCalls})`, input: rate.minimumCalls });
    }
    if (resolved.consecutiveFailures === false && rate === false) {
      ctx.addIssue({ code: 'custom', path: ['failureRate'], message: 'must be set when consecutiveFailures is false: something has to open the circuit', input: false });
    }
    // cockatiel holds a half-open call that finds no sample left waiting for the verdict; a probe beyond
    // the successes needed to close would decide nothing.
    if (resolved.halfOpenProbes > resolved.successThreshold) {
      ctx.addIssue({ code: 'custom', path: ['halfOpenProbes'], message: `must be at most successThreshold (${resolved.successThreshold})`, input: resolved.halfOpenProbes });
    }
    return resolved;
  });

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * A circuit breaker: cockatiel's circuit (closed → open → half-open, manual
 * isolation) with a {@link TripWire} that opens it on failures in a row or
 * on a failure rate. Ours on top: at most `halfOpenProbes` probes in flight
 * and `successThreshold` successes to close (cockatiel's `halfOpenSampling`
 * with no failure allowed does the counting; calls beyond it are rejected
 * here instead of waiting for the verdict), CircuitOpenError, reset, metrics
 * and events.
 */
export class CircuitBreaker implements Policy<PolicyContext> {
  readonly options: Readonly<ResolvedCircuitBreakerOptions>;
  readonly on: PolicyEvents<BreakerEvent>['on'];
  readonly #events = new PolicyEvents<BreakerEvent>();
  readonly #tripwire: TripWire;
  readonly #circuit: CircuitBreakerPolicy;
  readonly #metrics;
  #previous: BreakerState = 'closed';
  #openedAt = 0;
  #probes = 0;
  #probeSuccesses = 0;
  /** Counts half-open episodes, so a probe that ends after its episode does not count in the next one. */
  #episode = 0;
  #resetting = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.options = Object.freeze(parseOptions(schema, options, 'breaker'));
    const o = this.options;
    this.on = this.#events.on.bind(this.#events);
    this.#tripwire = new TripWire(o.consecutiveFailures, o.failureRate);
    this.#circuit = circuitBreaker(handleWhen(o.isFailure), {
      breaker: this.#tripwire,
      halfOpenAfter: o.halfOpenAfterMs,
      halfOpenSampling: { calls: o.successThreshold, threshold: 0 },
    });
    const r = o.registry;
    this.#metrics = {
      state: gauge(r, 'breaker_state', 'Whether a circuit breaker is in a state (1) or not (0), by state.', ['state']),
      calls: counter(r, 'breaker_calls_total', 'Calls through a circuit breaker by result: success, failure (counted against the circuit), ignored (an error isFailure let through) or rejected (not run).', ['result']),
      transitions: counter(r, 'breaker_transitions_total', 'State changes of a circuit breaker, by the state entered.', ['to']),
    };
    zeroes(this.#metrics.calls, o.name, 'result', ['success', 'failure', 'ignored', 'rejected']);
    zeroes(this.#metrics.transitions, o.name, 'to', ['open', 'half-open', 'closed', 'isolated']);
    this.#showState('closed');
    this.#circuit.onBreak((reason) => this.#opened(reason));
    this.#circuit.onHalfOpen(() => {
      this.#episode++;
      this.#probeSuccesses = 0;
      this.#events.emit({ type: 'breaker-half-open', name: o.name });
    });
    this.#circuit.onReset(() => {
      if (this.#resetting) return;
      this.#events.emit({ type: 'breaker-closed', name: o.name, reason: this.#previous === 'isolated' ? 'released' : 'probes-succeeded' });
    });
    this.#circuit.onStateChange((s) => {
      if (this.#resetting) return;
      this.#previous = STATES[s];
      this.#metrics.transitions.inc({ name: o.name, to: STATES[s] });
      this.#showState(STATES[s]);
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** The state now. An open circuit turns half-open on the first call after `halfOpenAfterMs`. */
  get state(): BreakerState {
    return STATES[this.#circuit.state];
  }

  /** Epoch ms from which a call may go through as a probe; null unless open. */
  get nextProbeAt(): number | null {
    return this.#circuit.state === CircuitState.Open ? this.#openedAt + this.options.halfOpenAfterMs : null;
  }

  async execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    const state = this.#circuit.state;
    if (state === CircuitState.Isolated) throw this.#reject('isolated', null);
    if (state === CircuitState.Open && Date.now() < this.#openedAt + this.options.halfOpenAfterMs) throw this.#reject('open', this.#openedAt + this.options.halfOpenAfterMs);
    const probing = state !== CircuitState.Closed;
    // cockatiel counts finished probes as its successes and running ones as in flight; the same sum here
    // (a finished probe stays in #probes until this method resumes) keeps its "wait for the verdict" path unused.
    if (probing && (this.#probes >= this.options.halfOpenProbes || this.#probes + this.#probeSuccesses >= this.options.successThreshold)) {
      throw this.#reject('half-open', null);
    }
    if (probing) this.#probes++;
    // An open circuit turns half-open inside this (synchronous) part of cockatiel's execute.
    const pending = this.#circuit.execute(fn, signal);
    const episode = this.#episode;
    try {
      const value = await pending;
      this.#count('success');
      if (probing && episode === this.#episode && this.#circuit.state === CircuitState.HalfOpen) this.#probeSuccesses++;
      return value;
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw this.#reject(this.#circuit.state === CircuitState.Isolated ? 'isolated' : 'open', this.nextProbeAt);
      if (err instanceof TaskCancelledError && signal?.aborted) throw signal.reason;
      const failure = this.options.isFailure(err);
      this.#count(failure ? 'failure' : 'ignored');
      if (!failure && probing && episode === this.#episode && this.#circuit.state === CircuitState.HalfOpen) this.#probeSuccesses++;
      throw err;
    } finally {
      if (probing) this.#probes--;
    }
  }

  /** Hold the circuit open (calls fail fast with state 'isolated') until every returned release function is called. */
  isolate(): () => void {
    const handle = this.#circuit.isolate();
    return () => handle.dispose();
  }

  /**
   * Close the circuit now and forget the failures seen so far. An isolation
   * stays in force until it is released.
   */
  reset(): void {
    const state = this.#circuit.state;
    if (state === CircuitState.Open || state === CircuitState.HalfOpen) {
      // cockatiel closes a circuit by hand only by releasing an isolation.
      this.#resetting = true;
      try {
        this.#circuit.isolate().dispose();
      } finally {
        this.#resetting = false;
      }
      this.#previous = 'closed';
      this.#metrics.transitions.inc({ name: this.name, to: 'closed' });
      this.#showState('closed');
      this.#events.emit({ type: 'breaker-closed', name: this.name, reason: 'reset' });
    }
    this.#tripwire.reset();
  }

  #opened(reason: { isolated: true } | { error: unknown } | { value: unknown }): void {
    if (this.#resetting) return;
    this.#openedAt = Date.now();
    const isolated = 'isolated' in reason;
    this.#events.emit({
      type: 'breaker-opened',
      name: this.name,
      reason: isolated ? 'isolated' : this.#previous === 'half-open' ? 'probe-failed' : this.#tripwire.lastTrip,
      nextProbeAt: isolated ? null : this.#openedAt + this.options.halfOpenAfterMs,
      error: 'error' in reason ? reason.error : undefined,
    });
  }

  #reject(state: CircuitRejection, nextProbeAt: number | null): CircuitOpenError {
    this.#count('rejected');
    this.#events.emit({ type: 'breaker-rejected', name: this.name, state, nextProbeAt });
    return new CircuitOpenError(this.name, state, nextProbeAt);
  }

  #count(result: 'success' | 'failure' | 'ignored' | 'rejected'): void {
    this.#metrics.calls.inc({ name: this.name, result });
  }

  #showState(current: BreakerState): void {
    for (const s of Object.values(STATES)) this.#metrics.state.set({ name: this.name, state: s }, s === current ? 1 : 0);
  }
}
