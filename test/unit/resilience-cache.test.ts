import { expect } from 'chai';
import { Registry } from 'prom-client';
import { CacheAside, type CacheEvent } from '../../src/resilience/cache.js';
import { deferred, metricValue, rejection, settle, useFakeClock } from './resilience-helpers.js';

describe('resilience: cache-aside', () => {
  const t = useFakeClock();
  let registry: Registry;
  let events: CacheEvent[];
  beforeEach(() => {
    registry = new Registry();
    events = [];
  });

  function cache(options: { maxEntries?: number; ttlMs?: number } = {}): CacheAside<string, string> {
    const c = new CacheAside<string, string>({ name: 'users', registry, ...options });
    c.on('*', (e) => events.push(e));
    return c;
  }

  const loaderCounting = (): { load: (key: string) => string; calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      load: (key: string) => {
        calls.push(key);
        return `user ${key}`;
      },
    };
  };

  it('loads on a miss and serves the cached value on a hit', async () => {
    const c = cache();
    const { load, calls } = loaderCounting();
    expect(await c.getOrLoad('1', load)).to.equal('user 1');
    expect(await c.getOrLoad('1', load)).to.equal('user 1');
    expect(calls).to.deep.equal(['1']);
    expect(c.stats).to.include({ hits: 1, misses: 1, loads: 1, size: 1 });
    expect(events.map((e) => e.type)).to.deep.equal(['cache-miss', 'cache-hit']);
    const read = (result: string): Promise<number> => metricValue(registry, 'ringmaster_resilience_cache_requests_total', { name: 'users', result });
    expect([await read('hit'), await read('miss')]).to.deep.equal([1, 1]);
    expect(await metricValue(registry, 'ringmaster_resilience_cache_entries', { name: 'users' })).to.equal(1);
  });

  it('runs one load for callers that miss the same key at the same time', async () => {
    const c = cache();
    const gate = deferred<string>();
    let loads = 0;
    const loader = (): Promise<string> => {
      loads++;
      return gate.promise;
    };
    const a = c.getOrLoad('k', loader);
    const b = c.getOrLoad('k', loader);
    gate.resolve('shared');
    expect([await a, await b]).to.deep.equal(['shared', 'shared']);
    expect(loads).to.equal(1);
    expect(c.stats).to.include({ misses: 1, coalesced: 1, loads: 1 });
    expect(events[1]).to.include({ type: 'cache-miss', coalesced: true });
  });

  it('loads again once more than the TTL has passed', async () => {
    // lru-cache reads an entry stamped at performance.now() === 0 as having no TTL; the fake clock starts there.
    await t.clock.tickAsync(1);
    const c = cache({ ttlMs: 1000 });
    const { load, calls } = loaderCounting();
    await c.getOrLoad('1', load);
    await t.clock.tickAsync(1000);
    await c.getOrLoad('1', load);
    expect(calls).to.have.length(1);
    await t.clock.tickAsync(1);
    await c.getOrLoad('1', load);
    expect(calls).to.have.length(2);
    expect(c.stats).to.include({ hits: 1, misses: 2, expirations: 1 });
    expect(events.find((e) => e.type === 'cache-evicted')).to.include({ key: '1', reason: 'ttl' });
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const c = cache({ maxEntries: 2 });
    const { load, calls } = loaderCounting();
    await c.getOrLoad('a', load);
    await c.getOrLoad('b', load);
    await c.getOrLoad('a', load); // a is now the most recently used
    await c.getOrLoad('c', load); // evicts b
    expect(c.peek('b')).to.equal(undefined);
    expect(c.peek('a')).to.equal('user a');
    expect(c.stats).to.include({ evictions: 1, size: 2 });
    expect(events.filter((e) => e.type === 'cache-evicted')).to.have.length(1);
    expect(events.find((e) => e.type === 'cache-evicted')).to.include({ key: 'b', reason: 'size' });
    expect(calls).to.deep.equal(['a', 'b', 'c']);
    expect(await metricValue(registry, 'ringmaster_resilience_cache_evictions_total', { name: 'users', reason: 'size' })).to.equal(1);
  });

  it('does not cache a failed load', async () => {
    const c = cache();
    let n = 0;
    const flaky = (): string => {
      if (n++ === 0) throw new Error('db down');
      return 'ok';
    };
    expect(((await rejection(c.getOrLoad('x', flaky))) as Error).message).to.equal('db down');
    expect(await c.getOrLoad('x', flaky)).to.equal('ok');
    expect(c.stats).to.include({ loads: 2, loadFailures: 1, size: 1 });
  });

  it("stops only the aborting caller's wait; the load goes on for the others", async () => {
    const c = cache();
    const gate = deferred<string>();
    const controller = new AbortController();
    const a = c.getOrLoad('k', () => gate.promise, { signal: controller.signal });
    const b = c.getOrLoad('k', () => 'unused');
    controller.abort(new Error('caller left'));
    expect(((await rejection(a)) as Error).message).to.equal('caller left');
    gate.resolve('v');
    expect(await b).to.equal('v');
    await settle();
    expect(c.peek('k')).to.equal('v');
  });

  it('rejects invalid options', () => {
    expect(() => new CacheAside({ maxEntries: 0 })).to.throw('cache.maxEntries must be an integer of at least 1, got 0');
    expect(() => new CacheAside({ ttlMs: -1 })).to.throw('cache.ttlMs must be a whole number of ms, at least 0, got -1');
  });
});
