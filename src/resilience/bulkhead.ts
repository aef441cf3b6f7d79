import { bulkhead, BulkheadRejectedError, TaskCancelledError, type BulkheadPolicy } from 'cockatiel';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { BulkheadFullError } from './errors.js';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, gauge, resilienceRegistry, zeroes } from './metrics.js';
import { commonFields, integer, parseOptions } from './options.js';
import { abortable, type Policy, type PolicyContext } from './policy.js';

/** Calls allowed to run at once. */
export const DEFAULT_BULKHEAD_MAX_CONCURRENT = 10;
/** Calls allowed to wait for a slot; beyond that a call is rejected. 0: no queue. */
export const DEFAULT_BULKHEAD_MAX_QUEUE = 0;

export interface BulkheadOptions {
  name?: string;
  registry?: Registry;
  maxConcurrent?: number;
  maxQueue?: number;
}

export interface ResolvedBulkheadOptions {
  name: string;
  registry: Registry;
  maxConcurrent: number;
  maxQueue: number;
}

export type BulkheadEvent = EventsOf<'bulkhead-'>;

const schema = z.strictObject({ ...commonFields, maxConcurrent: integer(1).optional(), maxQueue: integer(0).optional() }).transform(
  (o): ResolvedBulkheadOptions => ({
    name: o.name ?? 'bulkhead',
    registry: o.registry ?? resilienceRegistry,
    maxConcurrent: o.maxConcurrent ?? DEFAULT_BULKHEAD_MAX_CONCURRENT,
    maxQueue: o.maxQueue ?? DEFAULT_BULKHEAD_MAX_QUEUE,
  }),
);

/**
 * A concurrency limit with a bounded queue: cockatiel's bulkhead (slots,
 * FIFO queue, rejection). Ours: BulkheadFullError, a caller's abort that
 * takes a queued call out at once (cockatiel notices it only when the call
 * reaches the front; its slot in the queue is freed then), gauges, events.
 */
export class Bulkhead implements Policy<PolicyContext> {
  readonly options: Readonly<ResolvedBulkheadOptions>;
  readonly on: PolicyEvents<BulkheadEvent>['on'];
  readonly #events = new PolicyEvents<BulkheadEvent>();
  readonly #policy: BulkheadPolicy;
  readonly #metrics;

  constructor(options: BulkheadOptions = {}) {
    this.options = Object.freeze(parseOptions(schema, options, 'bulkhead'));
    const o = this.options;
    this.on = this.#events.on.bind(this.#events);
    this.#policy = bulkhead(o.maxConcurrent, o.maxQueue);
    this.#metrics = {
      active: gauge(o.registry, 'bulkhead_active_calls', 'Calls running inside a bulkhead.'),
      queued: gauge(o.registry, 'bulkhead_queued_calls', 'Calls waiting for a slot of a bulkhead.'),
      calls: counter(o.registry, 'bulkhead_calls_total', 'Calls through a bulkhead by result: success, failure or rejected (bulkhead full).', ['result']),
    };
    zeroes(this.#metrics.calls, o.name, 'result', ['success', 'failure', 'rejected']);
    this.#show();
  }

  get name(): string {
    return this.options.name;
  }

  /** Calls running now. */
  get active(): number {
    return this.options.maxConcurrent - this.#policy.executionSlots;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.options.maxQueue - this.#policy.queueSlots;
  }

  async execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    const pending = this.#policy.execute(async (context) => {
      this.#show();
      return fn(context);
    }, signal);
    this.#show();
    try {
      const value = await abortable(pending, signal);
      this.#count('success');
      return value;
    } catch (err) {
      if (err instanceof BulkheadRejectedError) {
        this.#count('rejected');
        this.#events.emit({ type: 'bulkhead-rejected', name: this.name, active: this.active, queued: this.queued });
        throw new BulkheadFullError(this.name, this.options.maxConcurrent, this.options.maxQueue);
      }
      this.#count('failure');
      throw err instanceof TaskCancelledError && signal?.aborted ? signal.reason : err;
    } finally {
      this.#show();
    }
  }

  #count(result: 'success' | 'failure' | 'rejected'): void {
    this.#metrics.calls.inc({ name: this.name, result });
  }

  #show(): void {
    this.#metrics.active.set({ name: this.name }, this.active);
    this.#metrics.queued.set({ name: this.name }, this.queued);
  }
}
