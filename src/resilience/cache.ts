import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, gauge, histogram, resilienceRegistry, secondsSince, zeroes } from './metrics.js';
import { commonFields, integer, ms, parseOptions } from './options.js';
import { abortable } from './policy.js';

/** Entries kept before the least recently used is evicted. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1000;
/** How long a loaded value is served before it is loaded again, ms; 0: until evicted. */
export const DEFAULT_CACHE_TTL_MS = 60_000;

export interface CacheOptions {
  name?: string;
  registry?: Registry;
  maxEntries?: number;
  ttlMs?: number;
}

export interface ResolvedCacheOptions {
  name: string;
  registry: Registry;
  maxEntries: number;
  ttlMs: number;
}

/** Loads the value of a key on a miss; `signal` aborts if the entry is deleted or evicted while it loads. */
export type CacheLoader<K, V> = (key: K, context: { signal: AbortSignal }) => PromiseLike<V> | V;

/** Counts since the cache was made; `size` counts entries now (expired ones until they are touched or purged). */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Misses that joined a load already running for the key instead of starting one. */
  coalesced: number;
  loads: number;
  loadFailures: number;
  evictions: number;
  expirations: number;
  size: number;
}

export type CacheEvent = EventsOf<'cache-'>;

const schema = z.strictObject({ ...commonFields, maxEntries: integer(1).optional(), ttlMs: ms().optional() }).transform(
  (o): ResolvedCacheOptions => ({
    name: o.name ?? 'cache',
    registry: o.registry ?? resilienceRegistry,
    maxEntries: o.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
    ttlMs: o.ttlMs ?? DEFAULT_CACHE_TTL_MS,
  }),
);

/**
 * Cache-aside: `getOrLoad(key, loader)` serves a cached value or loads it.
 * lru-cache does the caching: the size bound (least recently used
 * evicted), the TTL, and the de-duplication of loads (`fetch` with a
 * `fetchMethod`: callers that miss while a key loads share that load).
 * Ours: a loader per call, a caller's abort that stops only that caller's
 * wait, counts, metrics, events. A failed load is not cached. Values may not
 * be undefined (lru-cache reads undefined from a loader as "do not cache").
 */
export class CacheAside<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  readonly options: Readonly<ResolvedCacheOptions>;
  readonly on: PolicyEvents<CacheEvent>['on'];
  readonly #events = new PolicyEvents<CacheEvent>();
  readonly #lru: LRUCache<K, V, CacheLoader<K, V>>;
  readonly #stats = { hits: 0, misses: 0, coalesced: 0, loads: 0, loadFailures: 0, evictions: 0, expirations: 0 };
  readonly #metrics;

  constructor(options: CacheOptions = {}) {
    this.options = Object.freeze(parseOptions(schema, options, 'cache'));
    const o = this.options;
    this.on = this.#events.on.bind(this.#events);
    this.#lru = new LRUCache<K, V, CacheLoader<K, V>>({
      max: o.maxEntries,
      ...(o.ttlMs > 0 ? { ttl: o.ttlMs } : {}),
      fetchMethod: (key, _stale, { signal, context }) => this.#load(key, context, signal),
      dispose: (_value, key, reason) => {
        if (reason === 'evict') this.#evicted(key, 'size');
        else if (reason === 'expire') this.#evicted(key, 'ttl');
      },
    });
    const r = o.registry;
    this.#metrics = {
      requests: counter(r, 'cache_requests_total', 'getOrLoad calls by result: hit, miss (started a load) or coalesced (joined a running load).', ['result']),
      loads: counter(r, 'cache_loads_total', 'Loads run on a miss, by result: success or failure (not cached).', ['result']),
      evictions: counter(r, 'cache_evictions_total', 'Entries removed by the size bound (size) or because their TTL ran out (ttl).', ['reason']),
      entries: gauge(r, 'cache_entries', 'Entries held in a cache, expired ones included until touched.'),
      loadSeconds: histogram(r, 'cache_load_duration_seconds', 'Time a cache load took.'),
    };
    zeroes(this.#metrics.requests, o.name, 'result', ['hit', 'miss', 'coalesced']);
    zeroes(this.#metrics.loads, o.name, 'result', ['success', 'failure']);
    zeroes(this.#metrics.evictions, o.name, 'reason', ['size', 'ttl']);
    this.#show();
  }

  get name(): string {
    return this.options.name;
  }

  get stats(): CacheStats {
    return { ...this.#stats, size: this.#lru.size };
  }

  /** The cached value, or the loader's (loaded once however many callers miss at the same time). */
  async getOrLoad(key: K, loader: CacheLoader<K, V>, options: { signal?: AbortSignal } = {}): Promise<V> {
    const status: LRUCache.Status<K, V, CacheLoader<K, V>> = {};
    const pending = this.#lru.fetch(key, { context: loader, status });
    // lru-cache fills in status.fetch before its first await.
    const outcome = status.fetch === 'hit' ? 'hit' : status.fetch === 'inflight' ? 'coalesced' : 'miss';
    if (status.fetch === 'stale') this.#evicted(key, 'ttl');
    this.#stats[outcome === 'hit' ? 'hits' : outcome === 'coalesced' ? 'coalesced' : 'misses']++;
    this.#metrics.requests.inc({ name: this.name, result: outcome });
    if (outcome === 'hit') this.#events.emit({ type: 'cache-hit', name: this.name, key });
    else this.#events.emit({ type: 'cache-miss', name: this.name, key, coalesced: outcome === 'coalesced' });
    this.#show();
    try {
      return (await abortable(pending, options.signal)) as V;
    } finally {
      this.#show();
    }
  }

  /** The cached value, without loading (undefined on a miss or an expired entry). */
  peek(key: K): V | undefined {
    return this.#lru.get(key);
  }

  set(key: K, value: V): void {
    this.#lru.set(key, value);
    this.#show();
  }

  delete(key: K): boolean {
    const had = this.#lru.delete(key);
    this.#show();
    return had;
  }

  clear(): void {
    this.#lru.clear();
    this.#show();
  }

  /** Drop every expired entry now (they are otherwise dropped when next touched). */
  purgeExpired(): void {
    this.#lru.purgeStale();
    this.#show();
  }

  async #load(key: K, loader: CacheLoader<K, V>, signal: AbortSignal): Promise<V> {
    const started = performance.now();
    this.#stats.loads++;
    try {
      const value = await loader(key, { signal });
      this.#metrics.loads.inc({ name: this.name, result: 'success' });
      return value;
    } catch (err) {
      this.#stats.loadFailures++;
      this.#metrics.loads.inc({ name: this.name, result: 'failure' });
      throw err;
    } finally {
      this.#metrics.loadSeconds.observe({ name: this.name }, secondsSince(started));
    }
  }

  #evicted(key: K, reason: 'size' | 'ttl'): void {
    this.#stats[reason === 'size' ? 'evictions' : 'expirations']++;
    this.#metrics.evictions.inc({ name: this.name, reason });
    this.#events.emit({ type: 'cache-evicted', name: this.name, key, reason });
  }

  #show(): void {
    this.#metrics.entries.set({ name: this.name }, this.#lru.size);
  }
}
