import { expect } from 'chai';
import { InvalidTreeError, ModuleLoadError, ReloadFailedError, type TreeSpec } from '../../src/index.js';
import { actors, find, Systems, until } from './system-helpers.js';

const tree = (children: TreeSpec[]): TreeSpec => ({ id: 'root', strategy: 'one_for_one', children });

describe('applying a changed tree to a running system (hot reload)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('hands a changed config to the actor without a restart, and restarts a child whose spec changed', async () => {
    const { system, events } = await systems.start(
      tree([
        { id: 'a', module: actors('echo'), config: { limit: 1 } },
        { id: 'b', module: actors('echo') },
      ]),
    );
    const changes = await system.applyTree(
      tree([
        { id: 'a', module: actors('echo'), config: { limit: 2 } },
        { id: 'b', module: actors('echo'), heartbeat: { intervalMs: 100, misses: 5 } },
      ]),
    );
    expect(changes.map((c) => `${c.kind}:${c.id}`)).to.deep.equal(['configure:a', 'restart:b']);
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 1, config: { limit: 2 }, reconfigured: 1 });
    expect(await system.ref('b').ask({ op: 'whoami' })).to.deep.include({ incarnation: 2 });
    expect(events.filter((e) => e.type === 'crashed')).to.deep.equal([]);
    expect(system.tree.children.find((c) => c.id === 'b')).to.deep.include({ heartbeat: { intervalMs: 100, misses: 5 } });
  });

  it('applies a change whole or not at all: a failure part-way rolls back what was applied', async () => {
    const before = tree([
      { id: 'a', module: actors('echo'), config: { limit: 1 } },
      { id: 'b', module: actors('echo'), config: { limit: 1 } },
    ]);
    const { system } = await systems.start(before);
    const running = system.tree;
    const err = await system
      .applyTree(
        tree([
          { id: 'a', module: actors('echo'), config: { limit: 2 } }, // applied first...
          { id: 'b', module: actors('echo'), config: { refuse: true } }, // ...then this one's configure hook throws
          { id: 'c', module: actors('echo') },
        ]),
      )
      .then(
        () => expect.fail('the change must fail'),
        (e: Error) => e,
      );
    expect(err).to.be.instanceOf(ReloadFailedError);
    expect(err.message).to.match(/this config is refused/).and.match(/rolled back/);
    expect((err as ReloadFailedError).rollbackErrors).to.deep.equal([]);
    expect(system.tree).to.deep.equal(running);
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ config: { limit: 1 } });
    expect(system.status().map((s) => s.id)).to.deep.equal(['root', 'a', 'b']);
  });

  it('refuses a reload whose new or changed module cannot load, before anything changes', async () => {
    const { system, events } = await systems.start(
      tree([
        { id: 'a', module: actors('echo'), config: { limit: 1 } },
        { id: 'b', module: actors('echo') },
      ]),
    );
    const running = system.tree;
    for (const bad of [
      [{ id: 'a', module: actors('echo'), config: { limit: 2 } }, { id: 'b', module: actors('throws-on-import') }], // a changed module
      [{ id: 'a', module: actors('echo'), config: { limit: 2 } }, { id: 'b', module: actors('echo') }, { id: 'c', module: actors('not-an-actor') }], // a new child
    ]) {
      const err = await system.applyTree(tree(bad)).then(
        () => expect.fail('the reload must be refused'),
        (e: Error) => e,
      );
      expect(err).to.be.instanceOf(ModuleLoadError);
      expect(system.tree).to.deep.equal(running);
    }
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 1, config: { limit: 1 }, reconfigured: 0 });
    expect(system.status().map((s) => [s.id, s.state])).to.deep.equal([['root', 'running'], ['a', 'running'], ['b', 'running']]);
    expect(events.filter((e) => e.type === 'crashed' || e.type === 'escalated')).to.deep.equal([]);
  });

  it('hands a config change that lands while the actor is starting to the incarnation once it is up', async () => {
    const { system } = await systems.start(tree([{ id: 'a', module: actors('echo'), config: { initDelayMs: 300 } }]));
    const restarting = system.restartActor('a');
    await until(() => system.status().find((s) => s.id === 'a')?.state === 'starting', 'the restart to begin');
    await system.applyTree(tree([{ id: 'a', module: actors('echo'), config: { initDelayMs: 300, v: 2 } }]));
    await restarting;
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 2, config: { initDelayMs: 300, v: 2 }, reconfigured: 1 });
  });

  it('hands a config change that reaches a hung actor to the incarnation after it, as soon as the hung one is killed (not by a timeout)', async () => {
    const child = (config: object): TreeSpec => ({ id: 'h', module: actors('hang'), heartbeat: { intervalMs: 100, misses: 3 }, config });
    const { system, events } = await systems.start(tree([child({ v: 1 })]), { askTimeoutMs: 120_000 });
    // It answers, then blocks its loop 50 ms later: the configure below finds it spinning.
    await system.ref('h').ask({ op: 'spin-later' });
    await new Promise((r) => setTimeout(r, 150));
    const changes = await system.applyTree(tree([child({ v: 2 })]));
    expect(changes.map((c) => `${c.kind}:${c.id}`)).to.deep.equal(['configure:h']);
    await until(() => system.status().find((s) => s.id === 'h')?.state === 'running' && events.some((e) => e.type === 'crashed'), 'h to be killed and back');
    expect(await system.ref('h').ask({ op: 'whoami' })).to.deep.equal({ incarnation: 2, config: { v: 2 } });
    expect(events.filter((e) => e.type === 'crashed').map((e) => e.type === 'crashed' && e.cause)).to.deep.equal(['heartbeat']);
    expect(system.tree.children[0]).to.deep.include({ config: { v: 2 } });
  });

  it('starts added actors after their dependencies and stops removed ones', async () => {
    const { system } = await systems.start(tree([{ id: 'a', module: actors('echo') }, { id: 'gone', module: actors('echo') }]));
    const changes = await system.applyTree(
      tree([
        { id: 'a', module: actors('echo') },
        { id: 'late', module: actors('echo'), dependencies: ['new'] },
        { id: 'new', module: actors('echo') },
      ]),
    );
    expect(changes.map((c) => `${c.kind}:${c.id}`)).to.deep.equal(['remove:gone', 'add:new', 'add:late']);
    expect(system.status().map((s) => s.id)).to.deep.equal(['root', 'a', 'new', 'late']);
    expect(await system.ref('late').ask({ op: 'ask', to: 'new', msg: { op: 'echo', value: 'hi' } })).to.deep.equal({ ok: 'hi' });
    expect(await system.ref('gone').ask({ op: 'echo', value: 1 }).catch((e: Error) => e.name)).to.equal('NoSuchActorError');
  });

  it('rejects an invalid tree as a whole and keeps running the old one', async () => {
    const { system } = await systems.start(tree([{ id: 'a', module: actors('echo'), config: { v: 1 } }]));
    const err = await system.applyTree(tree([{ id: 'a', module: actors('echo'), config: { v: 2 } }, { id: 'b', module: '', restart: 'bad' } as never])).catch((e) => e);
    expect(err).to.be.instanceOf(InvalidTreeError);
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ config: { v: 1 }, reconfigured: 0 });
    expect(system.status().map((s) => s.id)).to.deep.equal(['root', 'a']);
  });

  it('changes an actor’s log level without a restart and a supervisor’s intensity in place', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', intensity: 0, children: [{ id: 'c', module: actors('crasher'), maxRedeliveries: 0 }] });
    const changes = await system.applyTree({ id: 'root', strategy: 'one_for_one', intensity: 5, children: [{ id: 'c', module: actors('crasher'), maxRedeliveries: 0, logLevel: 'debug' }] });
    expect(changes.map((c) => `${c.kind}:${c.id}`)).to.deep.equal(['supervisor:root', 'log-level:c']);
    system.ref('c').tell({ op: 'throw' }); // with intensity 0 this would have stopped the system
    await until(() => find(events, 'restarted', 'c'), 'c to restart');
    expect(system.state).to.equal('running');
  });
});
