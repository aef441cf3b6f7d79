import { expect } from 'chai';
import { needPromtool, promtoolCheck } from './promtool-helpers.js';
import { Registry } from 'prom-client';
import { Bulkhead, CacheAside, CircuitBreaker, Fallback, RateLimiter, Retry, Saga, Timeout, RESILIENCE_METRIC_PREFIX } from '../../src/resilience/index.js';

describe('resilience metrics pass promtool', () => {
  it('`promtool check metrics` accepts the metrics of every policy after some traffic', async function () {
    needPromtool(this);
    const registry = new Registry();
    const down = (): never => {
      throw new Error('down');
    };
    const breaker = new CircuitBreaker({ name: 'db', registry, consecutiveFailures: 1 });
    await breaker.execute(down).catch(() => undefined);
    await breaker.execute(() => 1).catch(() => undefined);
    await new Retry({ name: 'db', registry, maxAttempts: 2, initialDelayMs: 1 }).execute(down).catch(() => undefined);
    await new Timeout({ name: 'db', registry, timeoutMs: 1 }).execute(() => new Promise((r) => setTimeout(r, 20))).catch(() => undefined);
    await new Bulkhead({ name: 'db', registry, maxConcurrent: 1 }).execute(() => 1);
    const limiter = new RateLimiter({ name: 'api', registry, limit: 1 });
    limiter.tryAcquire('a');
    limiter.tryAcquire('a');
    await new Fallback({ name: 'quote', registry, value: 0 }).execute(down);
    const cache = new CacheAside<string, number>({ name: 'users', registry, maxEntries: 1 });
    await cache.getOrLoad('a', () => 1);
    await cache.getOrLoad('b', () => 2);
    await new Saga({ name: 'order', registry, steps: [{ name: 'a', action: () => 1, compensate: () => undefined }, { name: 'b', action: down }] }).run().catch(() => undefined);

    const text = await registry.metrics();
    const { code, output } = await promtoolCheck(text);
    expect(output, 'promtool findings').to.equal('');
    expect(code, output).to.equal(0);
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(names.length).to.equal(21);
    for (const n of names) expect(n.startsWith(RESILIENCE_METRIC_PREFIX), n).to.equal(true);
  });
});
