import { expect } from 'chai';
import type { Terminated } from '../../src/actor/watch.js';
import type { RiskApi } from '../fixtures/actors/risk-api.js';
import { clusterSuite, HEARTBEAT_MS, MISSES } from './cluster-helpers.js';
import { actors, type Systems, until } from './system-helpers.js';

describe('cluster: watches and typed proxies across nodes (real nats-server, real workers, real processes)', function () {
  this.timeout(120_000);
  const suite = clusterSuite('cw');
  const { systems, children } = suite;
  // a crashed message is not handed to the next incarnation: one crash, one restart
  const node = (node: string, ...ids: Array<[string, string]>): ReturnType<Systems['start']> =>
    systems.start(
      { id: 'root', strategy: 'one_for_one', children: ids.map(([id, module]) => ({ id, module: actors(module), maxRedeliveries: 0 })) },
      { name: suite.name, cluster: { node, servers: suite.server.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } },
    );

  it("a crash and a stop on another node reach the watchers of this node (an actor's and the main thread's), with that node named", async () => {
    const a = await node('n1', ['w', 'watcher']);
    const b = await node('n2', ['c2', 'crasher'], ['e2', 'echo']);
    await until(() => a.system.ref('c2').node === 'n2' && a.system.ref('e2').node === 'n2', 'n1 knowing c2 and e2');
    await a.system.ref('w').ask({ op: 'watch', id: 'c2' });
    await a.system.ref('w').ask({ op: 'watch', id: 'c2' }); // twice: one watch
    const onMain: Terminated[] = [];
    a.system.watch('e2', (t) => onMain.push(t));
    await until(() => b.system.watches().length === 2, 'both watches held on n2');
    expect(b.system.watches()).to.have.deep.members([
      { watcher: 'w', target: 'c2', node: 'n1' },
      { watcher: '$system@n1', target: 'e2', node: 'n1' },
    ]);
    expect(a.system.watches()).to.have.deep.members([
      { watcher: 'w', target: 'c2', node: 'n2' },
      { watcher: '$system', target: 'e2', node: 'n2' },
    ]);

    a.system.ref('c2').tell({ op: 'throw-coded', message: 'over there', code: 'E_THERE' });
    await until(async () => ((await a.system.ref('w').ask({ op: 'got' })) as Terminated[]).length === 1, 'terminated at w');
    expect(await a.system.ref('w').ask({ op: 'got' })).to.deep.equal([
      { type: 'terminated', id: 'c2', reason: 'crashed', node: 'n2', error: { message: 'Error: over there', cause: 'exception', code: 'E_THERE' } },
    ]);
    expect(await a.system.ref('e2').ask({ op: 'stop', reason: 'enough' })).to.equal('stopping');
    await until(() => onMain.length === 1, 'terminated on the main thread');
    expect(onMain).to.deep.equal([{ type: 'terminated', id: 'e2', reason: 'stopped', node: 'n2', detail: 'enough' }]);
    expect(a.system.watches()).to.deep.equal([]);
    expect(b.system.watches()).to.deep.equal([]);
  });

  it('unwatch reaches the other node; a watcher that stops takes its watches there with it; an id no node hosts is no-such-actor', async () => {
    const a = await node('n1', ['w', 'watcher'], ['w2', 'watcher']);
    const b = await node('n2', ['c2', 'crasher']);
    await until(() => a.system.ref('c2').node === 'n2', 'n1 knowing c2');
    await a.system.ref('w').ask({ op: 'watch', id: 'c2' });
    await a.system.ref('w2').ask({ op: 'watch', id: 'c2' });
    await until(() => b.system.watches().length === 2, 'the watches held on n2');
    await a.system.ref('w').ask({ op: 'unwatch', id: 'c2' });
    expect(await a.system.ref('w2').ask({ op: 'stop' })).to.equal('stopping');
    await until(() => b.system.watches().length === 0, 'n2 dropping both');
    expect(a.system.watches()).to.deep.equal([]);
    a.system.ref('c2').tell({ op: 'throw' });
    await until(() => b.events.some((e) => e.type === 'restarted' && e.actor === 'c2'), 'c2 restarted');
    expect(await a.system.ref('c2').ask({ op: 'echo', value: 1 })).to.equal(1); // the crash is over on n2
    expect(await a.system.ref('w').ask({ op: 'got' })).to.deep.equal([]);

    await a.system.ref('w').ask({ op: 'watch', id: 'ghost' });
    await until(async () => ((await a.system.ref('w').ask({ op: 'got' })) as Terminated[]).length === 1, 'no-such-actor');
    expect(await a.system.ref('w').ask({ op: 'got' })).to.deep.equal([{ type: 'terminated', id: 'ghost', reason: 'no-such-actor' }]);
  });

  it('kill -9 of the node hosting a watched actor: its watchers get node-down; the watches that node held here are dropped', async () => {
    const a = await node('n1', ['w', 'watcher'], ['e1', 'echo']);
    const child = children.start(suite.server.url, 'n2', 'e2:echo,w2:watcher', HEARTBEAT_MS, suite.name);
    await child.up();
    await until(() => a.system.ref('e2').node === 'n2' && a.system.ref('w2').node === 'n2', 'n1 knowing n2');
    await a.system.ref('w').ask({ op: 'watch', id: 'e2' });
    const onMain: Terminated[] = [];
    a.system.watch('e2', (t) => onMain.push(t));
    // n2's actor watches one of n1's: n1 holds that watch for it
    await a.system.ref('w2').ask({ op: 'watch', id: 'e1' });
    await until(() => a.system.watches().length === 3, 'three watches on n1');
    await child.kill('SIGKILL');
    await until(() => onMain.length === 1, 'node-down on the main thread');
    expect(onMain).to.deep.equal([{ type: 'terminated', id: 'e2', reason: 'node-down', node: 'n2', detail: 'timeout' }]);
    await until(async () => ((await a.system.ref('w').ask({ op: 'got' })) as Terminated[]).length === 1, 'node-down at w');
    expect(await a.system.ref('w').ask({ op: 'got' })).to.deep.equal([{ type: 'terminated', id: 'e2', reason: 'node-down', node: 'n2', detail: 'timeout' }]);
    expect(a.system.watches()).to.deep.equal([]);
    // watching an actor of a node that is down: node-down at once
    await a.system.ref('w').ask({ op: 'watch', id: 'e2' });
    await until(async () => ((await a.system.ref('w').ask({ op: 'got' })) as Terminated[]).length === 2, 'node-down at once');
    expect(((await a.system.ref('w').ask({ op: 'got' })) as Terminated[])[1]).to.deep.include({ id: 'e2', reason: 'node-down', node: 'n2' });
  });

  it('typed proxies to an actor of another node: from the main thread and from inside an actor; a method error arrives as that error', async () => {
    const a = await node('n1', ['r1', 'risk-api']);
    await node('n2', ['r2', 'risk-api']);
    await until(() => a.system.ref('r2').node === 'n2', 'n1 knowing r2');
    const risk = a.system.proxy<RiskApi>('r2');
    expect(await risk.check({ symbol: 'BTC', qty: 30 })).to.deep.equal({ ok: true, exposure: 30 });
    expect(await risk.check({ symbol: 'BTC', qty: 80 })).to.deep.equal({ ok: false, exposure: 30 });
    expect(await risk.exposure()).to.equal(30);
    const err = (await risk.reject('too big').catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).to.be.instanceOf(Error);
    expect([err.message, err.code]).to.deep.equal(['rejected: too big', 'E_RISK']);
    const wrapped = (await risk.wrapped().catch((e: unknown) => e)) as Error & { cause?: Error };
    expect(wrapped.message).to.equal('outer');
    expect(wrapped.cause).to.be.instanceOf(Error);
    expect([wrapped.cause!.name, wrapped.cause!.message]).to.deep.equal(['TypeError', 'inner']);
    // r1 (n1) calls r2 (n2) through ctx.proxy
    expect(await a.system.proxy<RiskApi>('r1').relay('r2', { symbol: 'ETH', qty: 5 })).to.deep.equal({ ok: true, exposure: 35 });
    expect(await a.system.proxy<RiskApi>('r2').exposure()).to.equal(35);
  });
});
