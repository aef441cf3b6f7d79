import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ExecutionTimeoutError } from '../../src/resilience/errors.js';
import type { ResilienceEvent } from '../../src/resilience/events.js';
import { Timeout, type TimeoutOptions } from '../../src/resilience/timeout.js';
import { metricValue, rejection, useFakeClock } from './resilience-helpers.js';

describe('resilience: timeout', () => {
  const t = useFakeClock();
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });

  function policy(options: TimeoutOptions): { p: Timeout; events: ResilienceEvent[] } {
    const p = new Timeout({ name: 'quote', registry, timeoutMs: 100, ...options });
    const events: ResilienceEvent[] = [];
    p.on('timeout', (e) => events.push(e));
    return { p, events };
  }

  it('aggressive: aborts the signal at the limit and rejects with ExecutionTimeoutError at once', async () => {
    const { p, events } = policy({ mode: 'aggressive' });
    let signal: AbortSignal | null = null;
    const call = p.execute(({ signal: s }) => {
      signal = s;
      return new Promise<never>(() => undefined);
    });
    call.catch(() => undefined);
    await t.clock.tickAsync(99);
    expect(signal!.aborted).to.equal(false);
    await t.clock.tickAsync(1);
    expect(signal!.aborted).to.equal(true);
    const err = (await rejection(call)) as ExecutionTimeoutError;
    expect(err).to.be.instanceOf(ExecutionTimeoutError);
    expect([err.code, err.policy, err.timeoutMs]).to.deep.equal(['ERR_EXECUTION_TIMEOUT', 'quote', 100]);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ type: 'timeout', name: 'quote', timeoutMs: 100 });
    expect(await metricValue(registry, 'ringmaster_resilience_timeout_calls_total', { name: 'quote', result: 'timeout' })).to.equal(1);
  });

  it('cooperative: aborts the signal and waits; a function that then fails rejects with ExecutionTimeoutError caused by its error', async () => {
    const { p } = policy({ mode: 'cooperative' });
    const call = p.execute(
      ({ signal }) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => setTimeout(() => reject(new Error('stopped early')), 20));
        }),
    );
    call.catch(() => undefined);
    let done = false;
    void call.catch(() => (done = true));
    await t.clock.tickAsync(110);
    expect(done).to.equal(false);
    await t.clock.tickAsync(10);
    const err = (await rejection(call)) as ExecutionTimeoutError;
    expect(err).to.be.instanceOf(ExecutionTimeoutError);
    expect((err.cause as Error).message).to.equal('stopped early');
  });

  it('cooperative: a function that finishes anyway keeps its result', async () => {
    const { p, events } = policy({ mode: 'cooperative' });
    const call = p.execute(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 150)));
    await t.clock.tickAsync(150);
    expect(await call).to.equal('late');
    expect(events).to.have.length(1);
  });

  it('passes a result in time through, and reports no time out', async () => {
    const { p, events } = policy({});
    const call = p.execute(() => new Promise<number>((resolve) => setTimeout(() => resolve(7), 50)));
    await t.clock.tickAsync(50);
    expect(await call).to.equal(7);
    await t.clock.tickAsync(1000);
    expect(events).to.have.length(0);
    expect(await metricValue(registry, 'ringmaster_resilience_timeout_call_duration_seconds', { name: 'quote' }, 'ringmaster_resilience_timeout_call_duration_seconds_count')).to.equal(1);
  });

  it("rejects with the caller's abort reason, which is not a time out", async () => {
    const { p, events } = policy({});
    const controller = new AbortController();
    const call = p.execute(() => new Promise<never>(() => undefined), controller.signal);
    call.catch(() => undefined);
    controller.abort(new Error('caller left'));
    expect(((await rejection(call)) as Error).message).to.equal('caller left');
    expect(events).to.have.length(0);
  });

  it('rejects invalid options', () => {
    expect(() => new Timeout({ timeoutMs: 0 })).to.throw('timeout.timeoutMs must be a whole number of ms, at least 1, got 0');
    expect(() => new Timeout({ mode: 'optimistic' as 'cooperative' })).to.throw(/timeout\.mode must be one of "aggressive" \| "cooperative"/);
  });
});
