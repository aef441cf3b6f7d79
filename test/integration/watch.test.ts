import { expect } from 'chai';
import type { ActorSystem, TreeSpec } from '../../src/index.js';
import type { Terminated } from '../../src/actor/watch.js';
import { actors, find, Systems, until } from './system-helpers.js';

const got = (system: ActorSystem, id = 'w'): Promise<Terminated[]> => system.ref(id).ask<Terminated[]>({ op: 'got' });

describe('watches on one node (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  const tree = (watcher: Record<string, unknown> = {}, more: Array<Record<string, unknown>> = []): TreeSpec => ({
    id: 'root',
    strategy: 'one_for_one',
    children: [
      { id: 'c', module: actors('crasher'), maxRedeliveries: 0 },
      { id: 'e', module: actors('echo') },
      { id: 'w', module: actors('watcher'), config: watcher },
      ...more,
    ],
  }) as TreeSpec;

  it("a crash fires the watch even though the supervisor restarts the actor; it is one-shot, and a re-watch sees the next incarnation's end", async () => {
    const { system, events } = await systems.start(tree());
    expect(await system.ref('w').ask({ op: 'watch', id: 'c' })).to.equal('watching');
    expect(await system.ref('w').ask({ op: 'watch', id: 'c' })).to.equal('watching'); // twice: one watch
    await until(() => system.watches().length === 1, 'the watch on the main thread');
    expect(system.watches()).to.deep.equal([{ watcher: 'w', target: 'c' }]);
    system.ref('c').tell({ op: 'throw', message: 'first' });
    await until(async () => (await got(system)).length === 1, 'terminated after the crash');
    await until(() => find(events, 'restarted', 'c'), 'c restarted');
    const [t] = await got(system);
    expect(t).to.deep.equal({ type: 'terminated', id: 'c', reason: 'crashed', error: { message: 'Error: first', cause: 'exception' } });
    expect(system.watches()).to.deep.equal([]); // one-shot
    system.ref('c').tell({ op: 'throw', message: 'second' });
    await until(() => events.filter((e) => e.type === 'restarted' && e.actor === 'c').length === 2, 'c restarted again');
    expect(await got(system)).to.have.length(1); // not watched any more: nothing new

    expect(await system.ref('w').ask({ op: 'watch', id: 'c' })).to.equal('watching');
    system.ref('c').tell({ op: 'exit', code: 3 });
    await until(async () => (await got(system)).length === 2, 'terminated after the re-watch');
    expect((await got(system))[1]).to.deep.include({ id: 'c', reason: 'crashed' });
  });

  it('a crash carries the error code when the error has one', async () => {
    const { system } = await systems.start(tree({ watch: ['c'] }));
    await until(() => system.watches().length === 1, 'the watch made in init');
    system.ref('c').tell({ op: 'throw-coded', message: 'limit hit', code: 'E_LIMIT' });
    await until(async () => (await got(system)).length === 1, 'terminated');
    expect((await got(system))[0]).to.deep.equal({ type: 'terminated', id: 'c', reason: 'crashed', error: { message: 'Error: limit hit', cause: 'exception', code: 'E_LIMIT' } });
  });

  it("a stop fires the watch with reason stopped and the stop's reason", async () => {
    const { system } = await systems.start(tree({ watch: ['e'] }));
    await until(() => system.watches().length === 1, 'the watch made in init');
    expect(await system.ref('e').ask({ op: 'stop', reason: 'done here' })).to.equal('stopping');
    await until(async () => (await got(system)).length === 1, 'terminated after the stop');
    expect((await got(system))[0]).to.deep.equal({ type: 'terminated', id: 'e', reason: 'stopped', detail: 'done here' });
    expect(system.watches()).to.deep.equal([]);
  });

  it('an actor waiting out its backoff can be watched; stopped for good instead of restarted, it fires with stopped; then it is no-such-actor', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'c', module: actors('crasher'), maxRedeliveries: 0, backoff: { min: 60_000, max: 60_000 } },
        { id: 'w', module: actors('watcher'), config: { watch: ['c'], rewatch: true } },
      ],
    });
    await until(() => system.watches().length === 1, 'the watch made in init');
    system.ref('c').tell({ op: 'throw' });
    await until(async () => (await got(system)).length === 1, 'the crash');
    await until(() => system.status().find((s) => s.id === 'c')?.state === 'backing-off' && system.watches().length === 1, 'watched again while backing off');
    await system.stopActor('c');
    await until(async () => (await got(system)).length === 2, 'stopped instead of restarted');
    expect((await got(system))[1]).to.deep.equal({ type: 'terminated', id: 'c', reason: 'stopped', detail: "actor 'c' is stopped (stop requested)" });
    await system.ref('w').ask({ op: 'watch', id: 'c' });
    await until(async () => (await got(system)).length === 3, 'no-such-actor for an actor stopped for good');
    expect((await got(system))[2]).to.deep.equal({ type: 'terminated', id: 'c', reason: 'no-such-actor' });
    expect(system.watches()).to.deep.equal([]);
  });

  it('an id that does not exist is no-such-actor at once, from an actor and from the main thread; bad ids and a missing onTerminated are refused', async () => {
    const { system } = await systems.start(tree({}, [{ id: 'u', module: actors('unwatched') }]));
    await system.ref('w').ask({ op: 'watch', id: 'ghost' });
    await until(async () => (await got(system)).length === 1, 'no-such-actor');
    expect((await got(system))[0]).to.deep.equal({ type: 'terminated', id: 'ghost', reason: 'no-such-actor' });
    const fromMain = await new Promise<Terminated>((resolve) => system.watch('ghost', resolve));
    expect(fromMain).to.deep.equal({ type: 'terminated', id: 'ghost', reason: 'no-such-actor' });
    expect(system.watches()).to.deep.equal([]);

    expect(await system.ref('w').ask({ op: 'watch-bad', id: '' })).to.deep.equal({ code: 'ERR_INVALID_OPTION', message: "ctx.watch(id) must be a non-empty actor id, got ''" });
    expect(await system.ref('w').ask({ op: 'watch-bad', id: 'w' })).to.deep.equal({ code: 'ERR_INVALID_OPTION', message: "ctx.watch(id) actor 'w' cannot watch itself" });
    const bare = (await system.ref('u').ask({ watch: 'e' })) as { code: string; message: string };
    expect(bare.code).to.equal('ERR_INVALID_OPTION');
    expect(bare.message).to.match(/actor 'u' has no onTerminated/);
    expect(() => system.watch('e', 'nope' as never)).to.throw(/listener must be a function/);
  });

  it('unwatch stops delivery (from an actor and from the main thread); unwatch after terminated is a no-op', async () => {
    const { system } = await systems.start(tree());
    await system.ref('w').ask({ op: 'watch', id: 'c' });
    const heard: Terminated[] = [];
    system.watch('c', (t) => heard.push(t));
    const drop = system.watch('e', (t) => heard.push(t));
    await until(() => system.watches().length === 3, 'three watches');
    expect(await system.ref('w').ask({ op: 'unwatch', id: 'c' })).to.equal('unwatched');
    system.unwatch('c');
    drop();
    await until(() => system.watches().length === 0, 'the watches dropped');
    system.ref('c').tell({ op: 'throw' });
    await system.ref('e').ask({ op: 'stop' });
    await until(() => system.status().find((s) => s.id === 'c')!.incarnation === 2, 'c restarted');
    // e is reached by the next ask only once it is back: the ask proves the notices would have been sent by now
    await until(async () => (await system.ref('e').ask({ op: 'echo', value: 1 }).catch(() => 0)) === 1, 'e back');
    expect(await got(system)).to.deep.equal([]);
    expect(heard).to.deep.equal([]);
    expect(await system.ref('w').ask({ op: 'unwatch', id: 'c' })).to.equal('unwatched'); // not watched: a no-op
    system.unwatch('c');
  });

  it('a watcher that crashes loses its watches: its next incarnation watches again in init', async () => {
    const { system, events } = await systems.start(tree({ watch: ['e'] }));
    await until(() => system.watches().length === 1, 'the watch made in init');
    await system.ref('w').ask({ op: 'watch', id: 'c' });
    await until(() => system.watches().length === 2, 'two watches');
    system.ref('w').tell({ op: 'throw' });
    await until(() => find(events, 'restarted', 'w'), 'w restarted');
    // init watched e again; the watch of c went with the old incarnation
    await until(() => system.watches().length === 1, 'one watch left');
    expect(system.watches()).to.deep.equal([{ watcher: 'w', target: 'e' }]);
    system.ref('c').tell({ op: 'throw' });
    await system.ref('e').ask({ op: 'stop' });
    await until(async () => (await got(system)).length === 1, 'the terminated of e');
    expect((await got(system)).map((t) => [t.id, t.reason])).to.deep.equal([['e', 'stopped']]);
  });

  it('the main thread watches with system.watch: each listener once, one watch per id', async () => {
    const { system } = await systems.start(tree());
    const a: Terminated[] = [];
    const b: Terminated[] = [];
    system.watch('c', (t) => a.push(t));
    system.watch('c', (t) => b.push(t));
    expect(system.watches()).to.deep.equal([{ watcher: '$system', target: 'c' }]);
    system.ref('c').tell({ op: 'throw', message: 'seen from main' });
    await until(() => a.length === 1 && b.length === 1, 'both listeners');
    expect(a[0]).to.deep.equal({ type: 'terminated', id: 'c', reason: 'crashed', error: { message: 'Error: seen from main', cause: 'exception' } });
    expect(system.watches()).to.deep.equal([]);
  });

  // 100 workers by default (WATCH_CHURN=1000 for the full 1,000: about 6 minutes on a busy 2-core machine);
  // test/unit/watch.test.ts drives 1,000 through the same registry without workers.
  const CHURN = Number(process.env.WATCH_CHURN ?? 100);
  it(`${CHURN} short-lived actors, each watched and each watching, leave no watch behind`, async function () {
    this.timeout(Math.max(120_000, CHURN * 900)); // every one a worker started and stopped
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'e', module: actors('echo') },
        { id: 'w', module: actors('watcher') },
        { id: 'kids', strategy: 'simple_one_for_one', template: { module: actors('watcher'), restart: 'temporary', heartbeat: false, config: { watch: ['e'] } }, children: [] },
      ],
    });
    const TOTAL = CHURN;
    const BATCH = 50;
    let heardByMain = 0;
    for (let at = 0; at < TOTAL; at += BATCH) {
      const ids = Array.from({ length: BATCH }, (_, i) => `kid-${at + i}`);
      await Promise.all(ids.map((id) => system.spawn('kids', { id })));
      for (const id of ids) {
        await system.ref('w').ask({ op: 'watch', id });
        system.watch(id, () => heardByMain++);
      }
      await Promise.all(ids.map((id) => system.stopActor(id)));
    }
    await until(() => heardByMain === TOTAL, 'every main-thread listener');
    await until(async () => (await got(system)).length === TOTAL, "every kid's terminated at w");
    const seen = await got(system);
    expect(new Set(seen.map((t) => t.id)).size).to.equal(TOTAL);
    expect(seen.every((t) => t.reason === 'stopped')).to.equal(true);
    expect(system.watches()).to.deep.equal([]);
    expect(system.status().filter((s) => s.parent === 'kids')).to.deep.equal([]);
  });
});
