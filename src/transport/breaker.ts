import { AskTimeoutError, ActorCrashedError, CircuitOpenError, InvalidOptionError, RingTimeoutError } from '../errors.js';
import {
  BREAKER_CLOSED,
  BREAKER_FAILURES,
  BREAKER_HALF_OPEN,
  BREAKER_OPEN,
  BREAKER_OPENED,
  BREAKER_REJECTED,
  BREAKER_REOPEN_AT_I64,
  BREAKER_RESET_MS,
  BREAKER_STATE,
  BREAKER_THRESHOLD,
} from '../ring/layout.js';

/** An actor breaker's state as every caller sees it (the toolkit's CircuitBreaker adds 'isolated'; an actor breaker has no such state). */
export type ActorBreakerState = 'closed' | 'open' | 'half-open';
const STATES: readonly ActorBreakerState[] = ['closed', 'open', 'half-open'];

export interface ActorBreakerOptions {
  /** Failed asks in a row that open the breaker. */
  failures: number;
  /** How long it stays open before one probe ask is let through, ms. */
  resetMs: number;
}

/** What a caller holds while its ask is out: whether it is the half-open probe. */
export interface Permit {
  probe: boolean;
}

const PASS: Permit = Object.freeze({ probe: false });
const PROBE: Permit = Object.freeze({ probe: true });

/**
 * A circuit breaker for asks to one actor, shared by every caller in every
 * thread: its state lives in the actor's doorbell, beside the mailbox bound.
 * An actor that keeps timing out or crashing under asks is then refused fast
 * (CircuitOpenError) by all of its callers at once, instead of each caller
 * learning it alone, one timeout at a time.
 *
 * Closed → open after `failures` failed asks in a row (timeout, crash, no
 * room); open → half-open once `resetMs` has passed, when exactly one caller
 * wins the compare-and-swap and sends the probe; the probe's success closes
 * it, its failure opens it again. Answers that are errors of the handler, or
 * refusals by the mailbox policy, say nothing about the actor's health and
 * count as successes.
 *
 * Hand-written, not cockatiel: cockatiel's breaker keeps its state in one
 * thread's memory.
 */
export class SharedBreaker {
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;

  constructor(doorbell: SharedArrayBuffer) {
    this.#i32 = new Int32Array(doorbell);
    this.#i64 = new BigInt64Array(doorbell, 0, BREAKER_REOPEN_AT_I64 + 1);
  }

  /** Main thread: turn it on (or off with null) and reset it. */
  configure(options: ActorBreakerOptions | null): void {
    if (options && !(Number.isInteger(options.failures) && options.failures >= 1)) throw new InvalidOptionError('breaker.failures', `must be an integer ≥ 1, got ${options.failures}`);
    if (options && !(Number.isInteger(options.resetMs) && options.resetMs >= 1)) throw new InvalidOptionError('breaker.resetMs', `must be an integer of ms ≥ 1, got ${options.resetMs}`);
    Atomics.store(this.#i32, BREAKER_RESET_MS, options?.resetMs ?? 0);
    Atomics.store(this.#i32, BREAKER_FAILURES, 0);
    Atomics.store(this.#i32, BREAKER_STATE, BREAKER_CLOSED);
    Atomics.store(this.#i32, BREAKER_THRESHOLD, options?.failures ?? 0);
  }

  get enabled(): boolean {
    return Atomics.load(this.#i32, BREAKER_THRESHOLD) > 0;
  }

  get state(): ActorBreakerState {
    return STATES[Atomics.load(this.#i32, BREAKER_STATE)] ?? 'closed';
  }

  get rejected(): number {
    return Atomics.load(this.#i32, BREAKER_REJECTED) >>> 0;
  }

  get opened(): number {
    return Atomics.load(this.#i32, BREAKER_OPENED) >>> 0;
  }

  /** Before an ask to `actor`: a permit, or the CircuitOpenError to fail with. */
  admit(actor: string, now = Date.now()): Permit | CircuitOpenError {
    if (Atomics.load(this.#i32, BREAKER_THRESHOLD) === 0) return PASS;
    const state = Atomics.load(this.#i32, BREAKER_STATE);
    if (state === BREAKER_CLOSED) return PASS;
    if (state === BREAKER_OPEN) {
      const at = Number(Atomics.load(this.#i64, BREAKER_REOPEN_AT_I64));
      if (now >= at && Atomics.compareExchange(this.#i32, BREAKER_STATE, BREAKER_OPEN, BREAKER_HALF_OPEN) === BREAKER_OPEN) return PROBE;
      Atomics.add(this.#i32, BREAKER_REJECTED, 1);
      return now >= at ? new CircuitOpenError(actor, 'half-open', null) : new CircuitOpenError(actor, 'open', at);
    }
    Atomics.add(this.#i32, BREAKER_REJECTED, 1);
    return new CircuitOpenError(actor, 'half-open', null);
  }

  /** After the ask settled: record how it went. */
  settle(permit: Permit, err: unknown, now = Date.now()): void {
    if (Atomics.load(this.#i32, BREAKER_THRESHOLD) === 0) return;
    if (!isFailure(err)) {
      if (permit.probe) Atomics.store(this.#i32, BREAKER_STATE, BREAKER_CLOSED);
      if (Atomics.load(this.#i32, BREAKER_FAILURES) !== 0) Atomics.store(this.#i32, BREAKER_FAILURES, 0);
      return;
    }
    if (permit.probe) {
      this.#open(now, BREAKER_HALF_OPEN);
      return;
    }
    const n = Atomics.add(this.#i32, BREAKER_FAILURES, 1) + 1;
    if (n >= Atomics.load(this.#i32, BREAKER_THRESHOLD)) this.#open(now, BREAKER_CLOSED);
  }

  #open(now: number, from: number): void {
    // The reopen time is written before the state flips, so whoever sees OPEN reads a valid time.
    Atomics.store(this.#i64, BREAKER_REOPEN_AT_I64, BigInt(now + Atomics.load(this.#i32, BREAKER_RESET_MS)));
    if (Atomics.compareExchange(this.#i32, BREAKER_STATE, from, BREAKER_OPEN) === from) {
      Atomics.store(this.#i32, BREAKER_FAILURES, 0);
      Atomics.add(this.#i32, BREAKER_OPENED, 1);
    }
  }
}

/** Failures of the actor itself: it did not answer in time, crashed on the ask, or had no room for it. */
function isFailure(err: unknown): boolean {
  return err instanceof AskTimeoutError || err instanceof ActorCrashedError || err instanceof RingTimeoutError;
}

/** Run an ask through `breaker`: refused fast while it is open, its outcome recorded when it settles. */
export function guarded<R>(breaker: SharedBreaker, actor: string, ask: () => Promise<R>): Promise<R> {
  const permit = breaker.admit(actor);
  if (permit instanceof CircuitOpenError) return Promise.reject(permit);
  return ask().then(
    (v) => {
      breaker.settle(permit, undefined);
      return v;
    },
    (err: unknown) => {
      breaker.settle(permit, err);
      throw err;
    },
  );
}
