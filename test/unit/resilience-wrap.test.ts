import { expect } from 'chai';
import { handleAll, retry as cockatielRetry } from 'cockatiel';
import { Registry } from 'prom-client';
import { CircuitOpenError } from '../../src/errors.js';
import { ExecutionTimeoutError, RetryExhaustedError } from '../../src/resilience/errors.js';
import { Bulkhead, CircuitBreaker, Fallback, Retry, Timeout, wrap } from '../../src/resilience/index.js';
import { rejection, useFakeClock } from './resilience-helpers.js';

describe('resilience: wrap', () => {
  const t = useFakeClock();
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });

  it('runs the policies outermost first and hands the function every context merged', async () => {
    const retry = new Retry({ registry, maxAttempts: 3, backoff: 'fixed', initialDelayMs: 10, jitter: 'none' });
    const timeout = new Timeout({ registry, timeoutMs: 100 });
    const policy = wrap(retry, new Bulkhead({ registry, maxConcurrent: 1 }), timeout);
    const seen: number[] = [];
    const call = policy.execute(({ attempt, signal }) => {
      seen.push(attempt);
      expect(signal).to.be.instanceOf(AbortSignal);
      if (attempt === 1) return new Promise<never>(() => undefined); // times out, then is retried
      return `attempt ${attempt}`;
    });
    await t.clock.tickAsync(100 + 10);
    expect(await call).to.equal('attempt 2');
    expect(seen).to.deep.equal([1, 2]);
    expect(policy.policies).to.have.length(3);
  });

  it('retries through a breaker until it opens, then gives up with the breaker error as the last cause', async () => {
    const breaker = new CircuitBreaker({ registry, consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
    const retry = new Retry({ registry, maxAttempts: 4, backoff: 'fixed', initialDelayMs: 1, jitter: 'none' });
    let ran = 0;
    const call = wrap(retry, breaker).execute(() => {
      ran++;
      throw new Error('down');
    });
    call.catch(() => undefined);
    await t.clock.runAllAsync();
    const err = (await rejection(call)) as RetryExhaustedError;
    expect(err).to.be.instanceOf(RetryExhaustedError);
    expect(err.cause).to.be.instanceOf(CircuitOpenError);
    expect(ran).to.equal(2);
  });

  it('composes with a fallback outermost and with cockatiel policies', async () => {
    const policy = wrap(new Fallback<string>({ registry, value: 'stale' }), cockatielRetry(handleAll, { maxAttempts: 1 }), new Timeout({ registry, timeoutMs: 50 }));
    const attempts: number[] = [];
    const call = policy.execute(({ attempt }) => {
      attempts.push(attempt);
      return new Promise<string>(() => undefined);
    });
    await t.clock.runAllAsync();
    expect(await call).to.equal('stale');
    expect(attempts).to.deep.equal([0, 1]); // cockatiel counts its attempts from 0
    const bare = wrap(new Timeout({ registry, timeoutMs: 50 }));
    const late = bare.execute(() => new Promise<never>(() => undefined));
    late.catch(() => undefined);
    await t.clock.tickAsync(50);
    expect(await rejection(late)).to.be.instanceOf(ExecutionTimeoutError);
  });
});
