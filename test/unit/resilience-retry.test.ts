import { expect } from 'chai';
import { Registry } from 'prom-client';
import { RetryExhaustedError } from '../../src/resilience/errors.js';
import type { ResilienceEvent } from '../../src/resilience/events.js';
import { Retry, type RetryOptions } from '../../src/resilience/retry.js';
import { metricValue, rejection, useFakeClock } from './resilience-helpers.js';

describe('resilience: retry', () => {
  const t = useFakeClock();
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });

  function policy(options: RetryOptions): { r: Retry; events: ResilienceEvent[] } {
    const r = new Retry({ name: 'fetch', registry, jitter: 'none', ...options });
    const events: ResilienceEvent[] = [];
    r.on('*', (e) => events.push(e));
    return { r, events };
  }

  /** Run a call that fails `failures` times then succeeds; returns when each attempt started (ms after the call). */
  async function attemptTimes(r: Retry, failures: number): Promise<{ times: number[]; result: unknown }> {
    const start = Date.now();
    const times: number[] = [];
    const call = r.execute(({ attempt }) => {
      times.push(Date.now() - start);
      if (attempt <= failures) throw new Error(`attempt ${attempt}`);
      return `ok after ${attempt}`;
    });
    call.catch(() => undefined);
    await t.clock.runAllAsync();
    return { times, result: await call.catch((e: unknown) => e) };
  }

  it('waits a fixed delay between attempts', async () => {
    const { r } = policy({ backoff: 'fixed', initialDelayMs: 50, maxAttempts: 4 });
    expect(await attemptTimes(r, 3)).to.deep.equal({ times: [0, 50, 100, 150], result: 'ok after 4' });
  });

  it('grows the delay linearly', async () => {
    const { r } = policy({ backoff: 'linear', initialDelayMs: 100, incrementMs: 50, maxAttempts: 4 });
    expect((await attemptTimes(r, 3)).times).to.deep.equal([0, 100, 250, 450]);
  });

  it('doubles the delay exponentially up to maxDelayMs', async () => {
    const { r, events } = policy({ backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 300, maxAttempts: 5 });
    expect((await attemptTimes(r, 4)).times).to.deep.equal([0, 100, 300, 600, 900]);
    const retries = events.filter((e) => e.type === 'retry-attempt');
    expect(retries.map((e) => [e.attempt, e.delayMs])).to.deep.equal([
      [2, 100],
      [3, 200],
      [4, 300],
      [5, 300],
    ]);
    expect((retries[0] as { error: Error }).error.message).to.equal('attempt 1');
  });

  it('keeps jittered delays within their bounds', async () => {
    const random = Math.random;
    try {
      for (const [jitter, r, expected] of [
        ['full', 0, 0],
        ['full', 0.9999, 99],
        ['half', 0, 50],
        ['half', 0.9999, 99],
        ['none', 0.5, 100],
      ] as const) {
        Math.random = () => r;
        const { r: p, events } = policy({ name: `j-${jitter}`, backoff: 'fixed', initialDelayMs: 100, jitter, maxAttempts: 2 });
        await attemptTimes(p, 1);
        expect([jitter, r, (events[0] as { delayMs: number }).delayMs]).to.deep.equal([jitter, r, expected]);
      }
      Math.random = random;
      const { r: p, events } = policy({ name: 'decorrelated', backoff: 'exponential', jitter: 'decorrelated', initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 8 });
      await attemptTimes(p, 7);
      for (const e of events.filter((x) => x.type === 'retry-attempt')) expect((e as { delayMs: number }).delayMs).to.be.within(0, 1000);
    } finally {
      Math.random = random;
    }
  });

  it('stops after maxAttempts with RetryExhaustedError carrying the attempts and the last error', async () => {
    const { r, events } = policy({ backoff: 'fixed', initialDelayMs: 10, maxAttempts: 3 });
    const { times, result } = await attemptTimes(r, 99);
    expect(times).to.deep.equal([0, 10, 20]);
    const err = result as RetryExhaustedError;
    expect(err).to.be.instanceOf(RetryExhaustedError);
    expect([err.code, err.policy, err.attempts, err.reason, (err.cause as Error).message]).to.deep.equal(['ERR_RETRY_EXHAUSTED', 'fetch', 3, 'attempts', 'attempt 3']);
    expect(events.at(-1)).to.include({ type: 'retry-exhausted', attempts: 3, reason: 'attempts' });
  });

  it('does not retry an error the predicate refuses, and rethrows it unchanged', async () => {
    const seen: [string, number][] = [];
    const { r } = policy({
      backoff: 'fixed',
      initialDelayMs: 10,
      maxAttempts: 5,
      shouldRetry: (e, attempt) => {
        seen.push([(e as Error).message, attempt]);
        return attempt < 2;
      },
    });
    const { times, result } = await attemptTimes(r, 99);
    expect(times).to.deep.equal([0, 10]);
    expect((result as Error).message).to.equal('attempt 2');
    expect(result).not.to.be.instanceOf(RetryExhaustedError);
    expect(seen).to.deep.equal([
      ['attempt 1', 1],
      ['attempt 2', 2],
    ]);
  });

  it('gives up when the next delay would pass the deadline', async () => {
    const { r, events } = policy({ backoff: 'fixed', initialDelayMs: 100, maxAttempts: 10, deadlineMs: 250 });
    const { times, result } = await attemptTimes(r, 99);
    expect(times).to.deep.equal([0, 100, 200]);
    const err = result as RetryExhaustedError;
    expect([err.reason, err.attempts, (err.cause as Error).message]).to.deep.equal(['deadline', 3, 'attempt 3']);
    expect(events.at(-1)).to.include({ type: 'retry-exhausted', reason: 'deadline' });
  });

  it('aborts the running attempt at the deadline and rejects then', async () => {
    const { r } = policy({ backoff: 'fixed', initialDelayMs: 100, maxAttempts: 10, deadlineMs: 250 });
    let signal: AbortSignal | null = null;
    const call = r.execute(({ attempt, signal: s }) => {
      if (attempt === 1) throw new Error('first');
      signal = s;
      return new Promise<never>(() => undefined); // never settles by itself
    });
    call.catch(() => undefined);
    await t.clock.tickAsync(249);
    expect(signal!.aborted).to.equal(false);
    await t.clock.tickAsync(1);
    const err = (await rejection(call)) as RetryExhaustedError;
    expect(signal!.aborted).to.equal(true);
    expect([err.reason, err.attempts, (err.cause as Error).message]).to.deep.equal(['deadline', 2, 'first']);
  });

  it("rejects at once with the caller's abort reason, and starts no further attempt", async () => {
    const { r } = policy({ backoff: 'fixed', initialDelayMs: 1000, maxAttempts: 5 });
    const controller = new AbortController();
    let attempts = 0;
    const call = r.execute(() => {
      attempts++;
      throw new Error('down');
    }, controller.signal);
    call.catch(() => undefined);
    await t.clock.tickAsync(10);
    controller.abort(new Error('caller gave up'));
    expect(((await rejection(call)) as Error).message).to.equal('caller gave up');
    await t.clock.runAllAsync();
    expect(attempts).to.equal(1);
    expect(await metricValue(registry, 'ringmaster_resilience_retry_calls_total', { name: 'fetch', result: 'aborted' })).to.equal(1);
  });

  it('counts attempts and results in its metrics', async () => {
    const { r } = policy({ backoff: 'fixed', initialDelayMs: 1, maxAttempts: 3 });
    await attemptTimes(r, 2);
    await attemptTimes(r, 5);
    const read = (name: string, labels: Record<string, string> = {}): Promise<number> => metricValue(registry, `ringmaster_resilience_${name}`, { name: 'fetch', ...labels });
    expect(await read('retry_attempts_total')).to.equal(6);
    expect(await read('retry_calls_total', { result: 'success' })).to.equal(1);
    expect(await read('retry_calls_total', { result: 'exhausted' })).to.equal(1);
  });

  it('rejects invalid options', () => {
    expect(() => new Retry({ maxAttempts: 0 })).to.throw('retry.maxAttempts must be an integer of at least 1, got 0');
    expect(() => new Retry({ backoff: 'linear', jitter: 'decorrelated' })).to.throw(/retry\.jitter must be "none", "full" or "half" with a linear backoff/);
    expect(() => new Retry({ backoff: 'cubic' as 'linear' })).to.throw('retry.backoff must be one of "fixed" | "linear" | "exponential", got "cubic"');
  });
});
