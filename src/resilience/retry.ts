import { handleType, retry, type IRetryBackoffContext, type IRetryContext, type RetryPolicy } from 'cockatiel';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { RetryExhaustedError } from './errors.js';
import { backoffFactory, checkedBackoff, type BackoffKind, type Jitter, type ResolvedRetryBackoff } from './backoff.js';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, resilienceRegistry, zeroes } from './metrics.js';
import { commonFields, fn, integer, ms, parseOptions } from './options.js';
import { abortable, childController, type Policy, type PolicyContext } from './policy.js';

/** Attempts in all, the first one included. */
export const DEFAULT_RETRY_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_BACKOFF: BackoffKind = 'exponential';
/** Delay before the first retry, ms. */
export const DEFAULT_RETRY_INITIAL_DELAY_MS = 100;
/** Longest delay between two attempts, ms. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000;
/** Spreads retries of many callers apart so they do not hit a recovering service in step. */
export const DEFAULT_RETRY_JITTER: Jitter = 'full';
/** Overall time limit of a call, every attempt and delay included, ms; 0: none. */
export const DEFAULT_RETRY_DEADLINE_MS = 0;

export interface RetryOptions {
  name?: string;
  registry?: Registry;
  maxAttempts?: number;
  backoff?: BackoffKind;
  initialDelayMs?: number;
  /** Added per retry by the linear backoff (default: initialDelayMs). */
  incrementMs?: number;
  maxDelayMs?: number;
  jitter?: Jitter;
  deadlineMs?: number;
  /** Whether a failed attempt is worth another (default: every error); `attempt` is the one that failed, from 1. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
}

export interface ResolvedRetryOptions extends ResolvedRetryBackoff {
  name: string;
  registry: Registry;
  maxAttempts: number;
  deadlineMs: number;
  shouldRetry: (error: unknown, attempt: number) => boolean;
}

/** What a function run under a retry gets: the signal and which attempt this is (1 for the first). */
export interface RetryContext extends PolicyContext {
  attempt: number;
}

export type RetryEvent = EventsOf<'retry-'>;

const schema = z
  .strictObject({
    ...commonFields,
    maxAttempts: integer(1).optional(),
    backoff: z.enum(['fixed', 'linear', 'exponential']).optional(),
    initialDelayMs: ms().optional(),
    incrementMs: ms().optional(),
    maxDelayMs: ms().optional(),
    jitter: z.enum(['none', 'full', 'half', 'decorrelated']).optional(),
    deadlineMs: ms().optional(),
    shouldRetry: fn<(error: unknown, attempt: number) => boolean>().optional(),
  })
  .transform((o, ctx): ResolvedRetryOptions => {
    const kind = o.backoff ?? DEFAULT_RETRY_BACKOFF;
    const initialDelayMs = o.initialDelayMs ?? DEFAULT_RETRY_INITIAL_DELAY_MS;
    const jitter = o.jitter ?? DEFAULT_RETRY_JITTER;
    if (jitter === 'decorrelated' && kind !== 'exponential') {
      ctx.addIssue({ code: 'custom', path: ['jitter'], message: `must be "none", "full" or "half" with a ${kind} backoff ("decorrelated" grows exponentially)`, input: jitter });
    }
    return {
      name: o.name ?? 'retry',
      registry: o.registry ?? resilienceRegistry,
      maxAttempts: o.maxAttempts ?? DEFAULT_RETRY_MAX_ATTEMPTS,
      kind,
      initialDelayMs,
      incrementMs: o.incrementMs ?? initialDelayMs,
      maxDelayMs: o.maxDelayMs ?? Math.max(DEFAULT_RETRY_MAX_DELAY_MS, initialDelayMs),
      jitter,
      deadlineMs: o.deadlineMs ?? DEFAULT_RETRY_DEADLINE_MS,
      shouldRetry: o.shouldRetry ?? (() => true),
    };
  });

/** One execute() call: what the backoff needs to know to stop at the deadline, and what the error reports. */
interface Call {
  attempts: number;
  lastError: unknown;
  deadlineAt: number | null;
  /** Set when the deadline ended the call. */
  deadline: RetryExhaustedError | null;
}

/** A failed attempt worth retrying: the only error cockatiel's retry handles, so anything else passes straight through. */
class Retryable {
  constructor(
    readonly error: unknown,
    readonly call: Call,
  ) {}
}

/**
 * Retries with backoff: cockatiel's retry loop and backoffs (exponential
 * with its jitter generators; fixed and linear through its DelegateBackoff).
 * Ours on top: the predicate with the attempt number, the overall deadline
 * (a call gives up when the next delay would pass it, and the running
 * attempt's signal aborts when it passes), RetryExhaustedError, metrics,
 * events. A caller's abort rejects at once; cockatiel's delay timer cannot
 * be cancelled and runs out on its own, but no further attempt starts.
 */
export class Retry implements Policy<RetryContext> {
  readonly options: Readonly<ResolvedRetryOptions>;
  readonly on: PolicyEvents<RetryEvent>['on'];
  readonly #events = new PolicyEvents<RetryEvent>();
  readonly #policy: RetryPolicy;
  readonly #metrics;

  constructor(options: RetryOptions = {}) {
    this.options = Object.freeze(parseOptions(schema, options, 'retry'));
    const o = this.options;
    this.on = this.#events.on.bind(this.#events);
    const backoff = checkedBackoff(backoffFactory<IRetryBackoffContext<unknown>>(o), (context, delayMs) => this.#beforeDelay(context, delayMs));
    this.#policy = retry(handleType(Retryable), { maxAttempts: o.maxAttempts - 1, backoff });
    this.#metrics = {
      attempts: counter(o.registry, 'retry_attempts_total', 'Attempts made through a retry policy, first attempts included.'),
      calls: counter(o.registry, 'retry_calls_total', 'Calls through a retry policy by result: success, exhausted (gave up), not-retried (an error shouldRetry refused) or aborted.', ['result']),
    };
    zeroes(this.#metrics.attempts, o.name);
    zeroes(this.#metrics.calls, o.name, 'result', ['success', 'exhausted', 'not-retried', 'aborted']);
  }

  get name(): string {
    return this.options.name;
  }

  async execute<T>(fn: (context: RetryContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    const o = this.options;
    const call: Call = { attempts: 0, lastError: undefined, deadlineAt: o.deadlineMs > 0 ? Date.now() + o.deadlineMs : null, deadline: null };
    const { controller, detach } = childController(signal);
    const timer =
      call.deadlineAt === null
        ? undefined
        : setTimeout(() => {
            call.deadline = new RetryExhaustedError(o.name, call.attempts, 'deadline', { cause: call.lastError });
            controller.abort(call.deadline);
          }, o.deadlineMs);
    const attempt = async ({ attempt }: IRetryContext): Promise<T> => {
      // After an abort, cockatiel may still start the attempt its pending delay was for.
      controller.signal.throwIfAborted();
      call.attempts = attempt + 1;
      this.#metrics.attempts.inc({ name: o.name });
      try {
        return await fn({ signal: controller.signal, attempt: attempt + 1 });
      } catch (error) {
        if (controller.signal.aborted) throw error;
        call.lastError = error;
        if (!o.shouldRetry(error, attempt + 1)) throw error;
        throw new Retryable(error, call);
      }
    };
    try {
      const value = await abortable(this.#policy.execute(attempt, controller.signal), controller.signal);
      this.#count('success');
      return value;
    } catch (err) {
      throw this.#outcome(err, call, signal);
    } finally {
      clearTimeout(timer);
      detach();
    }
  }

  /** Before each delay: stop if the attempt after it would start at or past the deadline; else report the retry. */
  #beforeDelay(context: IRetryBackoffContext<unknown>, delayMs: number): void {
    const failed = (context.result as { error: Retryable }).error;
    const { call } = failed;
    if (call.deadlineAt !== null && Date.now() + delayMs >= call.deadlineAt) {
      throw (call.deadline = new RetryExhaustedError(this.name, call.attempts, 'deadline', { cause: failed.error }));
    }
    this.#events.emit({ type: 'retry-attempt', name: this.name, attempt: call.attempts + 1, delayMs, error: failed.error });
  }

  /** The error a failed call rejects with. */
  #outcome(err: unknown, call: Call, signal: AbortSignal | undefined): unknown {
    let exhausted: RetryExhaustedError | null = null;
    if (err instanceof Retryable) exhausted = new RetryExhaustedError(this.name, call.attempts, 'attempts', { cause: err.error });
    else if (call.deadline !== null && err === call.deadline) exhausted = call.deadline;
    if (exhausted) {
      this.#count('exhausted');
      this.#events.emit({ type: 'retry-exhausted', name: this.name, attempts: exhausted.attempts, reason: exhausted.reason, error: exhausted.cause });
      return exhausted;
    }
    this.#count(signal?.aborted ? 'aborted' : 'not-retried');
    return err;
  }

  #count(result: 'success' | 'exhausted' | 'not-retried' | 'aborted'): void {
    this.#metrics.calls.inc({ name: this.name, result });
  }
}
