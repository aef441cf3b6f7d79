import { TaskCancelledError, timeout, TimeoutStrategy, type TimeoutPolicy } from 'cockatiel';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ExecutionTimeoutError } from './errors.js';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, histogram, resilienceRegistry, secondsSince, zeroes } from './metrics.js';
import { commonFields, ms, parseOptions } from './options.js';
import type { Policy, PolicyContext } from './policy.js';

/** Time a call may take, ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * `aggressive`: reject at the limit (the function's signal aborts; whatever
 * it does afterwards is ignored). `cooperative`: abort the signal at the
 * limit and wait for the function to settle.
 */
export type TimeoutMode = 'aggressive' | 'cooperative';
export const DEFAULT_TIMEOUT_MODE: TimeoutMode = 'aggressive';

export interface TimeoutOptions {
  name?: string;
  registry?: Registry;
  timeoutMs?: number;
  mode?: TimeoutMode;
}

export interface ResolvedTimeoutOptions {
  name: string;
  registry: Registry;
  timeoutMs: number;
  mode: TimeoutMode;
}

export type TimeoutEvent = EventsOf<'timeout'>;

const schema = z
  .strictObject({ ...commonFields, timeoutMs: ms(1).optional(), mode: z.enum(['aggressive', 'cooperative']).optional() })
  .transform(
    (o): ResolvedTimeoutOptions => ({
      name: o.name ?? 'timeout',
      registry: o.registry ?? resilienceRegistry,
      timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      mode: o.mode ?? DEFAULT_TIMEOUT_MODE,
    }),
  );

/**
 * A time limit: cockatiel's timeout (the timer, the derived AbortSignal
 * handed to the function, both strategies). Ours: ExecutionTimeoutError in
 * place of cockatiel's TaskCancelledError, the caller's abort reason when
 * the caller aborted (cockatiel reports that as a timeout too), and in
 * cooperative mode a function that fails after its signal aborted rejects
 * with ExecutionTimeoutError (its own error as cause); one that finishes
 * anyway keeps its result.
 */
export class Timeout implements Policy<PolicyContext> {
  readonly options: Readonly<ResolvedTimeoutOptions>;
  readonly on: PolicyEvents<TimeoutEvent>['on'];
  readonly #events = new PolicyEvents<TimeoutEvent>();
  readonly #policy: TimeoutPolicy;
  readonly #metrics;

  constructor(options: TimeoutOptions = {}) {
    this.options = Object.freeze(parseOptions(schema, options, 'timeout'));
    const o = this.options;
    this.on = this.#events.on.bind(this.#events);
    this.#policy = timeout(o.timeoutMs, o.mode === 'aggressive' ? TimeoutStrategy.Aggressive : TimeoutStrategy.Cooperative);
    this.#metrics = {
      calls: counter(o.registry, 'timeout_calls_total', 'Calls through a timeout policy by result: success, failure (the function failed in time) or timeout.', ['result']),
      duration: histogram(o.registry, 'timeout_call_duration_seconds', 'Time calls through a timeout policy took until they settled (a timed-out aggressive call: until the limit).'),
    };
    zeroes(this.#metrics.calls, o.name, 'result', ['success', 'failure', 'timeout']);
  }

  get name(): string {
    return this.options.name;
  }

  async execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    const started = performance.now();
    let timedOut = false;
    let settled = false;
    const run = async (context: PolicyContext): Promise<T> => {
      // cockatiel aborts this signal on time out, on the caller's abort, and after the function settled (to
      // release listeners): only the first of these is a time out.
      context.signal.addEventListener(
        'abort',
        () => {
          if (settled || signal?.aborted) return;
          timedOut = true;
          this.#events.emit({ type: 'timeout', name: this.name, timeoutMs: this.options.timeoutMs });
        },
        { once: true },
      );
      try {
        return await fn(context);
      } finally {
        settled = true;
      }
    };
    try {
      const value = await this.#policy.execute(run, signal);
      this.#finish(started, 'success');
      return value;
    } catch (err) {
      if (signal?.aborted && !timedOut) {
        this.#finish(started, 'failure');
        throw err instanceof TaskCancelledError ? signal.reason : err;
      }
      if (timedOut) {
        this.#finish(started, 'timeout');
        throw new ExecutionTimeoutError(this.name, this.options.timeoutMs, err instanceof TaskCancelledError ? undefined : { cause: err });
      }
      this.#finish(started, 'failure');
      throw err;
    }
  }

  #finish(started: number, result: 'success' | 'failure' | 'timeout'): void {
    this.#metrics.calls.inc({ name: this.name, result });
    this.#metrics.duration.observe({ name: this.name }, secondsSince(started));
  }
}
