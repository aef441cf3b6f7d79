import { expect } from 'chai';
import { Registry } from 'prom-client';
import { CircuitOpenError, InvalidOptionError } from '../../src/errors.js';
import { CircuitBreaker, type CircuitBreakerOptions } from '../../src/resilience/breaker.js';
import type { ResilienceEvent } from '../../src/resilience/events.js';
import { deferred, fail, metricValue, rejection, useFakeClock } from './resilience-helpers.js';

const ok = (): string => 'ok';

describe('resilience: circuit breaker', () => {
  const t = useFakeClock();
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });

  function breaker(options: CircuitBreakerOptions = {}): { b: CircuitBreaker; events: ResilienceEvent[] } {
    const b = new CircuitBreaker({ name: 'db', registry, halfOpenAfterMs: 1000, ...options });
    const events: ResilienceEvent[] = [];
    b.on('*', (e) => events.push(e));
    return { b, events };
  }

  async function failTimes(b: CircuitBreaker, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await rejection(b.execute(fail()));
  }

  it('opens after the consecutive-failure threshold, and a success in between starts the count again', async () => {
    const { b, events } = breaker({ consecutiveFailures: 3, failureRate: false });
    await failTimes(b, 2);
    await b.execute(ok);
    await failTimes(b, 2);
    expect(b.state).to.equal('closed');
    await failTimes(b, 1);
    expect(b.state).to.equal('open');
    const opened = events.find((e) => e.type === 'breaker-opened');
    expect(opened).to.include({ name: 'db', reason: 'consecutive-failures', nextProbeAt: Date.now() + 1000 });
    expect((opened as { error: Error }).error.message).to.equal('boom');
  });

  it('opens on the failure rate over a window of calls once the minimum throughput is reached', async () => {
    const { b: b2, events: e2 } = breaker({ consecutiveFailures: false, failureRate: { threshold: 0.5, windowCalls: 10, minimumCalls: 6 } });
    // F S F S F: 3 of 5 failed, but the window holds fewer than 6 calls.
    for (const bad of [true, false, true, false, true]) {
      if (bad) await rejection(b2.execute(fail()));
      else await b2.execute(ok);
    }
    expect(b2.state).to.equal('closed');
    await rejection(b2.execute(fail())); // 4 of 6 failed > 50 %
    expect(b2.state).to.equal('open');
    expect(e2.find((e) => e.type === 'breaker-opened')).to.include({ reason: 'failure-rate' });
  });

  it('opens on the failure rate over a time window', async () => {
    const { b } = breaker({ consecutiveFailures: false, failureRate: { threshold: 0.5, windowMs: 10_000, minimumCalls: 4 } });
    await b.execute(ok);
    await rejection(b.execute(fail()));
    await b.execute(ok);
    expect(b.state).to.equal('closed');
    await rejection(b.execute(fail()));
    expect(b.state).to.equal('closed'); // 2 of 4 is not above 50 %
    await rejection(b.execute(fail()));
    expect(b.state).to.equal('open');
  });

  it('fails fast with CircuitOpenError while open, naming the breaker and the next probe time, without running the call', async () => {
    const { b, events } = breaker({ consecutiveFailures: 1 });
    await failTimes(b, 1);
    let ran = false;
    const err = await rejection(
      b.execute(() => {
        ran = true;
      }),
    );
    expect(ran).to.equal(false);
    expect(err).to.be.instanceOf(CircuitOpenError);
    const open = err as CircuitOpenError;
    expect([open.code, open.breaker, open.state, open.nextProbeAt]).to.deep.equal(['ERR_CIRCUIT_OPEN', 'db', 'open', Date.now() + 1000]);
    expect(b.nextProbeAt).to.equal(Date.now() + 1000);
    expect(events.map((e) => e.type)).to.deep.equal(['breaker-opened', 'breaker-rejected']);
  });

  it('turns half-open after the delay and lets only `halfOpenProbes` probes through at once', async () => {
    const { b, events } = breaker({ consecutiveFailures: 1, halfOpenProbes: 1, successThreshold: 2 });
    await failTimes(b, 1);
    await t.clock.tickAsync(999);
    expect(await rejection(b.execute(ok))).to.be.instanceOf(CircuitOpenError);
    await t.clock.tickAsync(1);
    const probe = deferred<string>();
    const first = b.execute(() => probe.promise);
    expect(b.state).to.equal('half-open');
    const busy = (await rejection(b.execute(ok))) as CircuitOpenError;
    expect([busy.state, busy.nextProbeAt]).to.deep.equal(['half-open', null]);
    probe.resolve('p1');
    expect(await first).to.equal('p1');
    expect(b.state).to.equal('half-open'); // one success of two
    expect(await b.execute(() => 'p2')).to.equal('p2');
    expect(b.state).to.equal('closed');
    expect(events.map((e) => e.type)).to.deep.equal(['breaker-opened', 'breaker-rejected', 'breaker-half-open', 'breaker-rejected', 'breaker-closed']);
    expect(events.at(-1)).to.include({ reason: 'probes-succeeded' });
  });

  it('lets several probes run at once up to the limit and closes after the success threshold', async () => {
    const { b } = breaker({ consecutiveFailures: 1, halfOpenProbes: 2, successThreshold: 3 });
    await failTimes(b, 1);
    await t.clock.tickAsync(1000);
    const p1 = deferred<number>();
    const p2 = deferred<number>();
    const r1 = b.execute(() => p1.promise);
    const r2 = b.execute(() => p2.promise);
    expect(((await rejection(b.execute(ok))) as CircuitOpenError).state).to.equal('half-open');
    p1.resolve(1);
    p2.resolve(2);
    expect([await r1, await r2]).to.deep.equal([1, 2]);
    // Two successes in, one more needed: only one probe slot is useful now.
    const p3 = deferred<number>();
    const r3 = b.execute(() => p3.promise);
    expect(((await rejection(b.execute(ok))) as CircuitOpenError).state).to.equal('half-open');
    p3.resolve(3);
    expect(await r3).to.equal(3);
    expect(b.state).to.equal('closed');
  });

  it('re-opens when a probe fails, for another full delay', async () => {
    const { b, events } = breaker({ consecutiveFailures: 1, successThreshold: 2 });
    await failTimes(b, 1);
    await t.clock.tickAsync(1000);
    await b.execute(ok);
    await rejection(b.execute(fail('still down')));
    expect(b.state).to.equal('open');
    expect(b.nextProbeAt).to.equal(Date.now() + 1000);
    const reopened = events.filter((e) => e.type === 'breaker-opened').at(-1);
    expect(reopened).to.include({ reason: 'probe-failed' });
    await t.clock.tickAsync(1000);
    await b.execute(ok);
    await b.execute(ok);
    expect(b.state).to.equal('closed');
  });

  it('isolates by hand until every handle is released, and reset closes an open circuit', async () => {
    const { b, events } = breaker({ consecutiveFailures: 1 });
    const release1 = b.isolate();
    const release2 = b.isolate();
    const err = (await rejection(b.execute(ok))) as CircuitOpenError;
    expect([err.state, err.nextProbeAt]).to.deep.equal(['isolated', null]);
    release1();
    expect(b.state).to.equal('isolated');
    release2();
    expect(b.state).to.equal('closed');
    await failTimes(b, 1);
    expect(b.state).to.equal('open');
    b.reset();
    expect(b.state).to.equal('closed');
    expect(await b.execute(ok)).to.equal('ok');
    expect(events.filter((e) => e.type === 'breaker-closed').map((e) => (e as { reason: string }).reason)).to.deep.equal(['released', 'reset']);
  });

  it('counts only the errors isFailure picks; the others pass through', async () => {
    const { b } = breaker({ consecutiveFailures: 1, isFailure: (e) => (e as Error).message !== 'client error' });
    await rejection(b.execute(fail('client error')));
    await rejection(b.execute(fail('client error')));
    expect(b.state).to.equal('closed');
    await rejection(b.execute(fail('server error')));
    expect(b.state).to.equal('open');
  });

  it('exposes its state and call results as metrics', async () => {
    const { b } = breaker({ consecutiveFailures: 2 });
    await b.execute(ok);
    await failTimes(b, 2);
    await rejection(b.execute(ok));
    const read = (name: string, labels: Record<string, string>): Promise<number> => metricValue(registry, `ringmaster_resilience_${name}`, { name: 'db', ...labels });
    expect(await read('breaker_state', { state: 'open' })).to.equal(1);
    expect(await read('breaker_state', { state: 'closed' })).to.equal(0);
    expect(await read('breaker_calls_total', { result: 'success' })).to.equal(1);
    expect(await read('breaker_calls_total', { result: 'failure' })).to.equal(2);
    expect(await read('breaker_calls_total', { result: 'rejected' })).to.equal(1);
    expect(await read('breaker_transitions_total', { to: 'open' })).to.equal(1);
  });

  it('rejects invalid options with the field and the reason', () => {
    const bad = (options: unknown): InvalidOptionError => {
      try {
        new CircuitBreaker(options as CircuitBreakerOptions);
      } catch (err) {
        return err as InvalidOptionError;
      }
      throw new Error('accepted');
    };
    expect(bad({ halfOpenAfterMs: 0 }).message).to.equal('breaker.halfOpenAfterMs must be a whole number of ms, at least 1, got 0');
    expect(bad({ failureRate: { threshold: 1.5 } }).path).to.equal('breaker.failureRate.threshold');
    expect(bad({ halfOpenProbes: 3, successThreshold: 2 }).message).to.equal('breaker.halfOpenProbes must be at most successThreshold (2), got 3');
    expect(bad({ consecutiveFailures: false, failureRate: false }).path).to.equal('breaker.failureRate');
    expect(bad({ typo: 1 }).message).to.equal('breaker.typo is not a known option');
    expect(bad({ isFailure: 'yes' }).code).to.equal('ERR_INVALID_OPTION');
  });
});
