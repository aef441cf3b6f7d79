import { expect } from 'chai';
import { ActorCrashedError, InvalidTreeError, type ActorSystem } from '../../src/index.js';
import type { PoolCell } from '../../src/pool/cell.js';
import { TASK_TAG } from '../../src/pool/protocol.js';
import { actors, find, Systems, until } from './system-helpers.js';

const tasks = (name: string): string => new URL(`../fixtures/pool/${name}.js`, import.meta.url).pathname;
const poolOf = (system: ActorSystem, id: string): PoolCell => system.cell(id) as PoolCell;

describe('pool actors on piscina (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('turns asks and tells from the main thread and from actors into tasks', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'squares', pool: { module: tasks('tasks'), minThreads: 1, maxThreads: 2 } },
        { id: 'caller', module: actors('echo') },
      ],
    });
    const results = await Promise.all([...Array(20).keys()].map((n) => system.ref('squares').ask<number>({ op: 'square', n })));
    expect(results).to.deep.equal([...Array(20).keys()].map((n) => n * n));
    expect(await system.ref('caller').ask({ op: 'ask', to: 'squares', msg: { op: 'square', n: 12 } })).to.deep.equal({ ok: 144 });
    system.ref('squares').tell({ op: 'square', n: 3 });
    await until(() => poolOf(system, 'squares').stats().completed === 22, 'the tell to run as a task');
    const status = system.status().find((s) => s.id === 'squares')!;
    expect(status).to.include({ kind: 'actor', state: 'running', incarnation: 1 });
    const m = system.metrics().actors.find((a) => a.id === 'squares')!;
    expect(m.received).to.equal(22);
    expect(m.handler.counts.reduce((a, b) => a + b, 0)).to.equal(22);
  });

  it("never spins the main thread for a pool actor's reply (its inbox is read on the main thread), and does for a worker actor's", async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'squares', pool: { module: tasks('tasks'), minThreads: 1, maxThreads: 1 } },
        { id: 'echo', module: actors('echo') },
      ],
    });
    const tried = (): number => {
      const s = system.metrics().systemInbox.spin;
      return s.hits + s.misses + s.skipped + s.preempted;
    };
    const before = tried();
    for (let n = 0; n < 200; n++) expect(await system.ref('squares').ask<number>({ op: 'square', n })).to.equal(n * n);
    expect(tried(), 'waits that considered a spin, after 200 pool asks').to.equal(before);
    // The same loop to a worker actor: each wait considers a spin (taken, or skipped on a busy machine).
    for (let n = 0; n < 200; n++) expect(await system.ref('echo').ask({ op: 'echo', value: n })).to.equal(n);
    expect(tried()).to.be.greaterThan(before);
  });

  it('answers a handler’s error to the asker without crashing the pool', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'p', pool: { module: tasks('tasks'), maxThreads: 1 } }] });
    const err = await system
      .ref('p')
      .ask({ op: 'throw', why: 'odd' })
      .catch((e: Error) => e);
    expect((err as Error).message).to.equal('task refused: odd');
    expect(await system.ref('p').ask({ op: 'square', n: 4 })).to.equal(16);
    expect(events.filter((e) => e.type === 'crashed')).to.have.length(0);
    expect(poolOf(system, 'p').stats().failed).to.equal(1);
  });

  it('answers with the handler’s value as it is, sync or async, whatever its shape', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'p', pool: { module: tasks('tasks'), maxThreads: 2 } }] });
    const p = system.ref('p');
    // Values that look like the pool's own result envelopes must come back untouched.
    const shapes: unknown[] = [null, 0, 'text', [1, 2], { ok: false, error: { message: 'not mine' } }, { [TASK_TAG]: 'error', error: { message: 'not mine either' } }, { [TASK_TAG]: 'value' }];
    for (const value of shapes) expect(await p.ask({ op: 'echo', value })).to.deep.equal(value);
    expect(await p.ask({ op: 'echo' })).to.equal(undefined);
    expect(await p.ask({ op: 'later', ms: 5, value: { [TASK_TAG]: 'value', value: 1 } })).to.deep.equal({ [TASK_TAG]: 'value', value: 1 });
    const err = await p.ask({ op: 'reject-later', ms: 5, why: 'async' }).catch((e: Error) => e);
    expect((err as Error).message).to.equal('refused later: async');
    expect(poolOf(system, 'p').stats()).to.include({ completed: shapes.length + 3, failed: 1, running: 0 });
  });

  it('reports a worker that dies as the actor’s crash and restarts it as a new pool', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'p', pool: { module: tasks('tasks'), maxThreads: 1 } }] });
    const err = await system
      .ref('p')
      .ask({ op: 'exit', code: 3 })
      .catch((e: Error) => e);
    expect(err).to.be.instanceOf(ActorCrashedError);
    const crash = await until(() => find(events, 'crashed', 'p'), 'the crash event');
    expect(crash).to.include({ cause: 'exit', incarnation: 1 });
    await until(() => find(events, 'restarted', 'p'), 'the new pool');
    expect(await system.ref('p').ask({ op: 'square', n: 5 })).to.equal(25);
    const m = system.metrics().actors.find((a) => a.id === 'p')!;
    expect(m.restarts).to.equal(1);
    expect(m.crashesByCause.exit).to.equal(1);
  });

  it('under overload stops taking mail, so the mailbox policy decides (fail here), and loses nothing it accepted', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'p', pool: { module: tasks('tasks'), minThreads: 1, maxThreads: 1, maxQueue: 1 }, mailbox: { capacity: 3, overflow: 'fail' } }],
    });
    const asks: Array<Promise<unknown>> = [];
    let refused = 0;
    for (let i = 0; i < 12; i++) {
      asks.push(
        system
          .ref('p')
          .ask({ op: 'spin', ms: 150 }, { timeout: 30_000 })
          .catch((e: Error & { code?: string }) => {
            if (e.code === 'ERR_MAILBOX_FULL') refused++;
            else throw e;
          }),
      );
      // Gaps let the pool's reader take what it has room for; the rest must wait in the mailbox.
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(asks);
    const accepted = 12 - refused;
    expect(refused).to.be.greaterThan(0);
    // At most: one running, one queued in the pool, three in the mailbox (and tasks that finished meanwhile).
    expect(accepted).to.be.at.least(5);
    expect(poolOf(system, 'p').stats().completed).to.equal(accepted);
    expect(system.metrics().actors.find((a) => a.id === 'p')!.dropped.fail).to.equal(refused);
  });

  it('drains on a graceful stop: mail still in the inbox and tasks in the pool all finish and answer', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'p', pool: { module: tasks('tasks'), minThreads: 1, maxThreads: 1, maxQueue: 1 } }],
    });
    // One running, one queued in the pool, the rest waiting in the inbox when the stop begins.
    const asks = [...Array(6).keys()].map((n) => system.ref('p').ask({ op: 'later', ms: 20, value: n }, { timeout: 30_000 }));
    await until(() => poolOf(system, 'p').stats().running === 2, 'the pool to be full');
    await system.stop();
    expect(await Promise.all(asks)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(find(events, 'stopped', 'p')).to.not.equal(undefined);
    expect(poolOf(system, 'p').stats()).to.include({ completed: 6, running: 0 });
  });

  it('refuses a tree whose child is both a module and a pool, and a pool whose module has no handler', async () => {
    await systems
      .start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'x', module: actors('echo'), pool: { module: tasks('tasks') } }] })
      .then(
        () => expect.fail('started'),
        (e: InvalidTreeError) => expect(e.problems.map((p) => p.path)).to.include('tree.children[0].pool'),
      );
    const err = await systems.start({ id: 'root', strategy: 'one_for_one', intensity: 0, children: [{ id: 'bad', pool: { module: tasks('not-a-function') } }] }).catch((e: Error) => e);
    expect((err as Error).message).to.match(/must export a function/);
  });
});
