import { expect } from 'chai';
import { AskTimeoutError, CircuitBreaker, CircuitOpenError, createMetricsRegistry, InvalidTreeError } from '../../src/index.js';
import { actors, Systems, until } from './system-helpers.js';

describe('circuit breaking at the actor level (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('opens after failed asks in a row, refuses every caller fast, then a probe closes it', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'slow', module: actors('echo'), breaker: { failures: 2, resetMs: 300 } },
        { id: 'peer', module: actors('echo') },
      ],
    });
    const slow = system.ref('slow');
    // Both callers' threads are wired to slow before it fails.
    expect(await slow.ask({ op: 'echo', value: 1 })).to.equal(1);
    expect(await system.ref('peer').ask({ op: 'ask', to: 'slow', msg: { op: 'echo', value: 2 } })).to.deep.equal({ ok: 2 });
    expect(system.status().find((s) => s.id === 'slow')!.breaker).to.equal('closed');

    for (let i = 0; i < 2; i++) {
      const err = await slow.ask({ op: 'sleep', ms: 400 }, { timeout: 50 }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(AskTimeoutError);
    }
    const refused = await slow.ask({ op: 'echo', value: 3 }).catch((e: Error) => e);
    expect(refused).to.be.instanceOf(CircuitOpenError);
    expect(refused).to.include({ code: 'ERR_CIRCUIT_OPEN', breaker: 'slow', state: 'open' });
    expect(await system.ref('peer').ask({ op: 'ask', to: 'slow', msg: { op: 'echo', value: 4 } })).to.deep.include({ error: 'ERR_CIRCUIT_OPEN' });
    expect(system.status().find((s) => s.id === 'slow')!.breaker).to.equal('open');

    // Once resetMs has passed, one probe goes through; its answer closes the breaker.
    const answer = await until(
      () =>
        slow.ask({ op: 'echo', value: 'probe' }, { timeout: 10_000 }).catch((e: Error) => {
          if (!(e instanceof CircuitOpenError)) throw e;
          return undefined;
        }),
      'a probe to be let through and answered',
    );
    expect(answer).to.equal('probe');
    expect(system.status().find((s) => s.id === 'slow')!.breaker).to.equal('closed');
    const m = system.metrics().actors.find((a) => a.id === 'slow')!.breaker!;
    expect(m.opened).to.equal(1);
    expect(m.rejected).to.be.at.least(2);
  });

  it('a failed probe opens it again', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'slow', module: actors('echo'), breaker: { failures: 1, resetMs: 200 } }],
    });
    const slow = system.ref('slow');
    await slow.ask({ op: 'echo', value: 0 });
    await slow.ask({ op: 'sleep', ms: 2000 }, { timeout: 30 }).catch(() => {});
    expect(system.status().find((s) => s.id === 'slow')!.breaker).to.equal('open');
    // The probe also times out (the actor is still asleep): open again, counted twice.
    const probe = await until(
      () =>
        slow
          .ask({ op: 'echo', value: 1 }, { timeout: 30 })
          .then(() => 'answered')
          .catch((e: Error) => (e instanceof CircuitOpenError ? undefined : e)),
      'a probe to be sent',
    );
    expect(probe).to.be.instanceOf(AskTimeoutError);
    expect(system.metrics().actors.find((a) => a.id === 'slow')!.breaker!.opened).to.equal(2);
  });

  it('shows in /metrics, with the main thread’s resilience policies', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: actors('echo'), breaker: { failures: 3, resetMs: 1000 } }] });
    const registry = createMetricsRegistry(system);
    // Made after the registry: picked up at the scrape.
    const exchange = new CircuitBreaker({ name: 'exchange-test' });
    await exchange.execute(() => 'ok');
    const text = await registry.metrics();
    expect(text).to.match(/^ringmaster_actor_breaker_open\{actor="a",system="test"\} 0$/m);
    expect(text).to.match(/^ringmaster_resilience_breaker_calls_total\{.*name="exchange-test".*system="test".*\} 1$/m);
  });

  it('is validated with the tree', async () => {
    const err = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: actors('echo'), breaker: { failures: 0, resetMs: 10 } }] }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(InvalidTreeError);
    expect((err as InvalidTreeError).problems[0]!.path).to.equal('tree.children[0].breaker.failures');
  });
});
