import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';
import { RateLimitedError } from './errors.js';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, gauge, resilienceRegistry, zeroes } from './metrics.js';
import { commonFields, integer, ms, parseOptions } from './options.js';
import type { Policy, PolicyContext } from './policy.js';
import { sleep } from './policy.js';
import { createRateState, type RateAlgorithm, type RateDecision, type RateState } from './rate-algorithms.js';

export const DEFAULT_RATE_ALGORITHM: RateAlgorithm = 'token-bucket';
/** Permits per interval, per key. */
export const DEFAULT_RATE_LIMIT = 10;
/** The interval the limit is per, ms. */
export const DEFAULT_RATE_INTERVAL_MS = 1000;
/**
 * Keys tracked at once; beyond that the least recently used key's state is
 * dropped (that key starts afresh, as a new key would).
 */
export const DEFAULT_RATE_MAX_KEYS = 10_000;
/** How long acquire() may wait for permits by default, ms: no limit. */
export const DEFAULT_RATE_MAX_WAIT_MS = Number.POSITIVE_INFINITY;

export interface RateLimiterOptions {
  name?: string;
  registry?: Registry;
  algorithm?: RateAlgorithm;
  limit?: number;
  intervalMs?: number;
  /** Token bucket: tokens a key may save up and spend at once (default: limit). */
  burst?: number;
  maxKeys?: number;
}

export interface ResolvedRateLimiterOptions {
  name: string;
  registry: Registry;
  algorithm: RateAlgorithm;
  limit: number;
  intervalMs: number;
  burst: number;
  maxKeys: number;
}

export interface AcquireOptions {
  permits?: number;
  signal?: AbortSignal;
  /** Longest wait acceptable; a longer one is refused at once with RateLimitedError. */
  maxWaitMs?: number;
}

export type RateLimitEvent = EventsOf<'rate-'>;

const schema = z
  .strictObject({
    ...commonFields,
    algorithm: z.enum(['token-bucket', 'sliding-log', 'sliding-window']).optional(),
    limit: integer(1).optional(),
    intervalMs: ms(1).optional(),
    burst: integer(1).optional(),
    maxKeys: integer(1).optional(),
  })
  .transform(
    (o): ResolvedRateLimiterOptions => ({
      name: o.name ?? 'rate-limiter',
      registry: o.registry ?? resilienceRegistry,
      algorithm: o.algorithm ?? DEFAULT_RATE_ALGORITHM,
      limit: o.limit ?? DEFAULT_RATE_LIMIT,
      intervalMs: o.intervalMs ?? DEFAULT_RATE_INTERVAL_MS,
      burst: o.burst ?? o.limit ?? DEFAULT_RATE_LIMIT,
      maxKeys: o.maxKeys ?? DEFAULT_RATE_MAX_KEYS,
    }),
  );

const acquireSchema = z.strictObject({
  permits: integer(1).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { error: 'must be an AbortSignal' }).optional(),
  maxWaitMs: ms().optional(),
});

/**
 * A rate limiter per key (a user, a tenant, a route): token bucket or
 * sliding window, written here (rate-algorithms.ts); keys live in an
 * lru-cache bounded to `maxKeys`. `tryAcquire` answers at once; `acquire`
 * waits until the permits are free (not in arrival order: each waiter
 * retries when its own estimate says so).
 */
export class RateLimiter {
  readonly options: Readonly<ResolvedRateLimiterOptions>;
  readonly on: PolicyEvents<RateLimitEvent>['on'];
  readonly #events = new PolicyEvents<RateLimitEvent>();
  readonly #keys: LRUCache<string, RateState>;
  readonly #metrics;

  constructor(options: RateLimiterOptions = {}) {
    this.options = Object.freeze(parseOptions(schema, options, 'rateLimiter'));
    const o = this.options;
    this.on = this.#events.on.bind(this.#events);
    this.#keys = new LRUCache<string, RateState>({ max: o.maxKeys });
    this.#metrics = {
      requests: counter(o.registry, 'rate_limit_requests_total', 'Permit requests to a rate limiter by result: allowed or limited.', ['result']),
      keys: gauge(o.registry, 'rate_limit_keys', 'Keys a rate limiter tracks now.'),
    };
    zeroes(this.#metrics.requests, o.name, 'result', ['allowed', 'limited']);
    this.#metrics.keys.set({ name: o.name }, 0);
  }

  get name(): string {
    return this.options.name;
  }

  /** Keys tracked now. */
  get keys(): number {
    return this.#keys.size;
  }

  /** Take `permits` for `key` if they are free now; never waits. */
  tryAcquire(key: string, permits = 1): RateDecision {
    const decision = this.#decide(key, permits);
    if (!decision.allowed) this.#limited(key, decision.retryAfterMs);
    return decision;
  }

  /** Wait until `permits` for `key` are free and take them; rejects with RateLimitedError if that would take longer than `maxWaitMs`. */
  async acquire(key: string, options: AcquireOptions = {}): Promise<void> {
    const o = parseOptions(acquireSchema, options, 'acquire');
    const deadline = performance.now() + (o.maxWaitMs ?? DEFAULT_RATE_MAX_WAIT_MS);
    for (;;) {
      o.signal?.throwIfAborted();
      const decision = this.#decide(key, o.permits ?? 1);
      if (decision.allowed) return;
      if (performance.now() + decision.retryAfterMs > deadline) {
        this.#limited(key, decision.retryAfterMs);
        throw new RateLimitedError(this.name, key, decision.retryAfterMs);
      }
      await sleep(decision.retryAfterMs, o.signal);
    }
  }

  /** Acquire for `key` (as `acquire`), then run `fn`. */
  async execute<T>(key: string, fn: (context: PolicyContext) => PromiseLike<T> | T, options: AcquireOptions = {}): Promise<T> {
    await this.acquire(key, options);
    return fn({ signal: options.signal ?? new AbortController().signal });
  }

  /** This limiter as a policy for one key, to compose with wrap(); by default it refuses at once instead of waiting. */
  forKey(key: string, options: Omit<AcquireOptions, 'signal'> = { maxWaitMs: 0 }): Policy<PolicyContext> {
    return { execute: (fn, signal) => this.execute(key, fn, { ...options, ...(signal ? { signal } : {}) }) };
  }

  #decide(key: string, permits: number): RateDecision {
    if (typeof key !== 'string') throw new InvalidOptionError('key', `must be a string, got ${typeof key}`);
    const most = this.options.algorithm === 'token-bucket' ? this.options.burst : this.options.limit;
    if (!Number.isInteger(permits) || permits < 1 || permits > most) {
      throw new InvalidOptionError('permits', `must be an integer from 1 to ${most} (more could never be granted), got ${permits}`);
    }
    const now = performance.now();
    let state = this.#keys.get(key);
    if (!state) {
      state = createRateState(this.options.algorithm, this.options, now);
      this.#keys.set(key, state);
      this.#metrics.keys.set({ name: this.name }, this.#keys.size);
    }
    const decision = state.take(now, permits);
    if (decision.allowed) this.#metrics.requests.inc({ name: this.name, result: 'allowed' });
    return decision;
  }

  #limited(key: string, retryAfterMs: number): void {
    this.#metrics.requests.inc({ name: this.name, result: 'limited' });
    this.#events.emit({ type: 'rate-limited', name: this.name, key, retryAfterMs });
  }
}
