import { expect } from 'chai';
import { Registry } from 'prom-client';
import { RateLimitedError } from '../../src/resilience/errors.js';
import { RateLimiter, type RateLimitEvent, type RateLimiterOptions } from '../../src/resilience/rate-limit.js';
import { metricValue, rejection, settle, useFakeClock } from './resilience-helpers.js';

describe('resilience: rate limiter', () => {
  const t = useFakeClock();
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });
  const limiter = (options: RateLimiterOptions): RateLimiter => new RateLimiter({ name: 'api', registry, ...options });
  const allowed = (l: RateLimiter, key: string, n: number): boolean[] => Array.from({ length: n }, () => l.tryAcquire(key).allowed);

  describe('token bucket', () => {
    it('spends the bucket, then refills at limit per interval, per key', async () => {
      const l = limiter({ algorithm: 'token-bucket', limit: 2, intervalMs: 1000 });
      expect(allowed(l, 'alice', 3)).to.deep.equal([true, true, false]);
      expect(l.tryAcquire('bob').allowed).to.equal(true); // another key has its own bucket
      expect(l.tryAcquire('alice')).to.deep.equal({ allowed: false, remaining: 0, retryAfterMs: 500 });
      await t.clock.tickAsync(499);
      expect(l.tryAcquire('alice')).to.deep.equal({ allowed: false, remaining: 0, retryAfterMs: 1 });
      await t.clock.tickAsync(1);
      expect(l.tryAcquire('alice')).to.deep.equal({ allowed: true, remaining: 0, retryAfterMs: 0 });
      await t.clock.tickAsync(10_000);
      expect(allowed(l, 'alice', 3)).to.deep.equal([true, true, false]); // refills up to the bucket only
    });

    it('lets a key save up `burst` tokens', () => {
      const l = limiter({ algorithm: 'token-bucket', limit: 1, intervalMs: 1000, burst: 3 });
      expect(allowed(l, 'k', 4)).to.deep.equal([true, true, true, false]);
      expect(l.tryAcquire('k').retryAfterMs).to.equal(1000);
    });
  });

  describe('sliding log', () => {
    it('allows at most `limit` permits in any interval, and says when the oldest leaves', async () => {
      const l = limiter({ algorithm: 'sliding-log', limit: 3, intervalMs: 1000 });
      expect(l.tryAcquire('k').allowed).to.equal(true);
      await t.clock.tickAsync(200);
      expect(l.tryAcquire('k').allowed).to.equal(true);
      await t.clock.tickAsync(200);
      expect(l.tryAcquire('k')).to.deep.equal({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect(l.tryAcquire('k')).to.deep.equal({ allowed: false, remaining: 0, retryAfterMs: 600 });
      expect(l.tryAcquire('other').allowed).to.equal(true);
      await t.clock.tickAsync(600);
      expect(allowed(l, 'k', 2)).to.deep.equal([true, false]);
      expect(l.tryAcquire('k').retryAfterMs).to.equal(200);
    });
  });

  describe('sliding window (counter)', () => {
    it("estimates the window from this interval's count and the previous one's share", async () => {
      const l = limiter({ algorithm: 'sliding-window', limit: 10, intervalMs: 1000 });
      await t.clock.tickAsync(1000 - (performance.now() % 1000)); // start at a window boundary
      expect(allowed(l, 'k', 11).filter(Boolean)).to.have.length(10);
      // Next window: 10 × (1 − elapsed/1000) + 0 + 1 ≤ 10 once 100 ms into it.
      expect(l.tryAcquire('k').retryAfterMs).to.equal(1100);
      await t.clock.tickAsync(1099);
      expect(l.tryAcquire('k').allowed).to.equal(false);
      await t.clock.tickAsync(1);
      expect(l.tryAcquire('k').allowed).to.equal(true);
      expect(l.tryAcquire('k').allowed).to.equal(false);
      await t.clock.tickAsync(100); // the previous window's share dropped by one more
      expect(l.tryAcquire('k').allowed).to.equal(true);
    });
  });

  it('acquire waits until the permit is free; a wait beyond maxWaitMs is refused at once with retryAfterMs', async () => {
    const l = limiter({ limit: 1, intervalMs: 1000 });
    const events: RateLimitEvent[] = [];
    l.on('rate-limited', (e) => events.push(e));
    await l.acquire('k');
    let granted = false;
    const waiting = l.acquire('k').then(() => (granted = true));
    await t.clock.tickAsync(999);
    expect(granted).to.equal(false);
    await t.clock.tickAsync(1);
    await waiting;
    expect(granted).to.equal(true);
    const err = (await rejection(l.acquire('k', { maxWaitMs: 500 }))) as RateLimitedError;
    expect(err).to.be.instanceOf(RateLimitedError);
    expect([err.code, err.limiter, err.key, err.retryAfterMs]).to.deep.equal(['ERR_RATE_LIMITED', 'api', 'k', 1000]);
    expect(events.map((e) => [e.key, e.retryAfterMs])).to.deep.equal([['k', 1000]]);
  });

  it('acquire stops waiting when its signal aborts', async () => {
    const l = limiter({ limit: 1, intervalMs: 1000 });
    l.tryAcquire('k');
    const controller = new AbortController();
    const waiting = l.acquire('k', { signal: controller.signal });
    await t.clock.tickAsync(10);
    controller.abort(new Error('shutting down'));
    expect(((await rejection(waiting)) as Error).message).to.equal('shutting down');
  });

  it('as a policy for one key, refuses at once by default', async () => {
    const l = limiter({ limit: 1, intervalMs: 1000 });
    const policy = l.forKey('tenant-1');
    expect(await policy.execute(() => 'first')).to.equal('first');
    expect(await rejection(policy.execute(() => 'second'))).to.be.instanceOf(RateLimitedError);
  });

  it('tracks at most maxKeys keys', () => {
    const l = limiter({ limit: 1, maxKeys: 2 });
    for (const k of ['a', 'b', 'c', 'd']) l.tryAcquire(k);
    expect(l.keys).to.equal(2);
    expect(l.tryAcquire('a').allowed).to.equal(true); // 'a' was dropped, so it starts afresh
  });

  it('counts allowed and limited requests and exposes the key count', async () => {
    const l = limiter({ limit: 2 });
    allowed(l, 'x', 3);
    allowed(l, 'y', 1);
    await settle();
    const read = (name: string, labels: Record<string, string> = {}): Promise<number> => metricValue(registry, `ringmaster_resilience_${name}`, { name: 'api', ...labels });
    expect(await read('rate_limit_requests_total', { result: 'allowed' })).to.equal(3);
    expect(await read('rate_limit_requests_total', { result: 'limited' })).to.equal(1);
    expect(await read('rate_limit_keys')).to.equal(2);
  });

  it('rejects invalid options and impossible requests', () => {
    expect(() => limiter({ limit: 0 })).to.throw('rateLimiter.limit must be an integer of at least 1, got 0');
    expect(() => limiter({ algorithm: 'leaky' as 'sliding-log' })).to.throw(/rateLimiter\.algorithm must be one of/);
    expect(() => limiter({ limit: 2 }).tryAcquire('k', 3)).to.throw('permits must be an integer from 1 to 2 (more could never be granted), got 3');
  });
});
