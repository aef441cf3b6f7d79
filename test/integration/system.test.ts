import { expect } from 'chai';
import { dirname } from 'node:path';
import {
  ActorCrashedError,
  ActorStoppedError,
  ActorSystem,
  AskTimeoutError,
  EscalationError,
  InvalidTreeError,
  ModuleLoadError,
  NoSuchActorError,
  type CrashCause,
} from '../../src/index.js';
import { actors, find, Systems, until } from './system-helpers.js';

describe('actor system: messaging and crash causes (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('answers asks from the main thread and between actors, each in its own thread', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('echo'), config: { role: 'front' } },
        { id: 'b', module: actors('echo'), dependencies: ['a'] },
      ],
    });
    expect(await system.ref('a').ask({ op: 'echo', value: { deep: [1, 'two'] } })).to.deep.equal({ deep: [1, 'two'] });
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ id: 'a', incarnation: 1, config: { role: 'front' } });
    expect(await system.ref('a').ask({ op: 'ask', to: 'b', msg: { op: 'whoami' } })).to.deep.include({ ok: { id: 'b', incarnation: 1, config: undefined, handled: 1, reconfigured: 0 } });
    for (let i = 0; i < 100; i++) system.ref('b').tell({ op: 'record', seq: i });
    expect(await system.ref('b').ask({ op: 'records' })).to.deep.equal([...Array(100).keys()]);
    const status = system.status();
    expect(status.map((s) => [s.id, s.parent, s.kind, s.state])).to.deep.equal([
      ['root', null, 'supervisor', 'running'],
      ['a', 'root', 'actor', 'running'],
      ['b', 'root', 'actor', 'running'],
    ]);
  });

  const causes: Array<{ cause: CrashCause; child: Record<string, unknown>; msg?: unknown; reason: RegExp }> = [
    { cause: 'exception', child: { module: actors('crasher') }, msg: { op: 'throw', message: 'kaput' }, reason: /Error: kaput/ },
    { cause: 'unhandled-rejection', child: { module: actors('crasher') }, msg: { op: 'reject' }, reason: /nobody handles this rejection/ },
    { cause: 'exit', child: { module: actors('crasher') }, msg: { op: 'exit', code: 7 }, reason: /exited with code 7/ },
    { cause: 'heartbeat', child: { module: actors('hang'), heartbeat: { intervalMs: 100, misses: 5 } }, msg: { op: 'spin' }, reason: /blocked inside a handler: no heartbeat/ },
    { cause: 'deadline', child: { module: actors('hang'), deadlineMs: 300 }, msg: { op: 'never' }, reason: /past its 300 ms deadline/ },
    { cause: 'out-of-memory', child: { module: actors('leak'), resourceLimits: { maxOldGenerationSizeMb: 24 } }, msg: { op: 'leak' }, reason: /ran out of heap/ },
  ];
  for (const c of causes) {
    it(`detects a crash by ${c.cause}, reports its reason, and restarts the actor`, async () => {
      const { system, events } = await systems.start({
        id: 'root',
        strategy: 'one_for_one',
        children: [{ id: 'x', maxRedeliveries: 0, ...c.child } as never],
      });
      system.ref('x').tell(c.msg);
      const crashed = await until(() => find(events, 'crashed', 'x'), 'the crash');
      expect(crashed.cause).to.equal(c.cause);
      expect(crashed.reason).to.match(c.reason);
      expect(crashed.incarnation).to.equal(1);
      await until(() => find(events, 'restarted', 'x'), 'the restart');
      expect(system.status().find((s) => s.id === 'x')).to.deep.include({ state: 'running', incarnation: 2, restarts: 1 });
    });
  }

  it('detects an idle actor whose event loop blocks outside any handler (a timer of its own), with no timer of the runtime in the worker', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'x', module: actors('hang'), maxRedeliveries: 0, heartbeat: { intervalMs: 100, misses: 5 } }],
    });
    expect(await system.ref('x').ask({ op: 'spin-later' })).to.equal(undefined); // answered, parked, then its timer blocks
    const crashed = await until(() => find(events, 'crashed', 'x'), 'the crash');
    expect(crashed.cause).to.equal('heartbeat');
    expect(crashed.reason).to.match(/event loop stalled: no heartbeat for \d+ ms \(5 × 100 ms(, ×[\d.]+ for a machine with [\d.]+ runnable threads per core)?(; its thread ran \d+ ms on a CPU and waited \d+ ms more for one)?\)/);
    await until(() => find(events, 'restarted', 'x'), 'the restart');
    expect(await system.ref('x').ask({ op: 'echo', value: 7 })).to.equal(7);
  });

  it('fails a child whose init throws, counting against the budget, and reports why', async () => {
    let err: unknown;
    await ActorSystem.start({
      name: 't',
      log: { level: 'silent' },
      tree: { id: 'root', strategy: 'one_for_one', intensity: 2, children: [{ id: 'x', module: actors('crasher'), config: { crashInInit: true } }] },
    }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(EscalationError);
    expect((err as Error).message).to.match(/'x' failed to start.*init.*init refused to start/);
  });

  it('fails the start at once with ModuleLoadError for a module that is missing, throws at import or exports no actor, spending no restart', async () => {
    const base = dirname(actors('echo'));
    for (const [module, why] of [
      [actors('does-not-exist'), /cannot load .*does-not-exist\.js/],
      ['./does-not-exist.js', /cannot load .*does-not-exist\.js.*\('\.\/does-not-exist\.js' resolved from .*fixtures\/actors\)/],
      [actors('throws-on-import'), /cannot load .*throws-on-import\.js: this module fails at import/],
      [actors('not-an-actor'), /has no default export made by defineActor\(\)/],
    ] as const) {
      let err: unknown;
      await ActorSystem.start({ name: 't', baseDir: base, log: { level: 'silent' }, tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'ok', module: actors('echo') }, { id: 'm', module }] } }).catch(
        (e) => (err = e),
      );
      expect(err, String(module)).to.be.instanceOf(ModuleLoadError);
      expect((err as Error).message).to.match(/actor 'm'/).and.to.match(why);
    }
  });

  it('rejects an invalid tree before anything starts, naming each bad field', async () => {
    let err: unknown;
    await ActorSystem.start({ name: 't', tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: 'x', restart: 'often' }] } as never }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(InvalidTreeError);
    expect((err as Error).message).to.match(/tree\.children\[0\]\.restart/);
  });

  it('settles asks to crashing, hanging, stopped and unknown actors with the right error', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 10,
      children: [
        { id: 'crash', module: actors('crasher'), maxRedeliveries: 0 },
        { id: 'hang', module: actors('hang'), heartbeat: { intervalMs: 100, misses: 5 }, maxRedeliveries: 0 },
        { id: 'slow', module: actors('echo'), shutdown: 200 },
        { id: 'done', module: actors('echo'), restart: 'temporary' },
      ],
    });
    const crashed = await system.ref('crash').ask({ op: 'throw' }).catch((e) => e);
    expect(crashed).to.be.instanceOf(ActorCrashedError);
    expect(crashed).to.deep.include({ actor: 'crash', crash: 'exception', incarnation: 1 });
    const hung = (await system.ref('hang').ask({ op: 'spin' }, { timeout: 30_000 }).catch((e) => e)) as ActorCrashedError;
    expect(hung).to.be.instanceOf(ActorCrashedError);
    expect(hung.crash).to.equal('heartbeat');
    const late = await system.ref('slow').ask({ op: 'sleep', ms: 2000 }, { timeout: 50 }).catch((e) => e);
    expect(late).to.be.instanceOf(AskTimeoutError);
    await system.ref('done').ask({ op: 'stop' });
    await until(() => system.status().every((s) => s.id !== 'done'), 'the temporary child to go');
    const stopped = await system.ref('done').ask({ op: 'echo', value: 1 }).catch((e) => e);
    expect(stopped).to.be.instanceOf(ActorStoppedError);
    const unknown = await system.ref('nobody').ask({}).catch((e) => e);
    expect(unknown).to.be.instanceOf(NoSuchActorError);
    const pending = system.ref('slow').ask({ op: 'sleep', ms: 60_000 }, { timeout: 120_000 });
    const stopping = system.stop();
    expect(await pending.catch((e) => e)).to.be.instanceOf(ActorStoppedError);
    await stopping;
    expect(await system.ref('slow').ask({ op: 'echo', value: 1 }).catch((e) => e)).to.be.instanceOf(ActorStoppedError);
  });
});
