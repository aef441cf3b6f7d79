import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, type SystemEvent } from '../../src/index.js';
import { actors, find, Systems, until } from './system-helpers.js';

const incarnations = (system: ActorSystem, ids: string[]): number[] => ids.map((id) => system.status().find((s) => s.id === id)!.incarnation);

describe('supervision (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  for (const [strategy, expected] of [
    ['one_for_one', [1, 2, 1]],
    ['one_for_all', [2, 2, 2]],
    ['rest_for_one', [1, 2, 2]],
  ] as const) {
    it(`${strategy} restarts exactly the right children, in start order`, async () => {
      const { system, events } = await systems.start({
        id: 'root',
        strategy,
        children: [
          { id: 'a', module: actors('echo') },
          { id: 'b', module: actors('crasher'), maxRedeliveries: 0 },
          { id: 'c', module: actors('echo') },
        ],
      });
      system.ref('b').tell({ op: 'throw' });
      await until(() => find(events, 'restarted', 'b'), 'b to restart');
      await until(() => system.status().every((s) => s.state === 'running'), 'everyone running');
      expect(incarnations(system, ['a', 'b', 'c'])).to.deep.equal(expected);
      const restarted = events.filter((e) => e.type === 'restarted').map((e) => (e as { actor: string }).actor);
      expect(restarted).to.deep.equal(['a', 'b', 'c'].filter((_, i) => expected[i] === 2));
      const stopped = events.filter((e) => e.type === 'stopped').map((e) => (e as { actor: string }).actor);
      expect(stopped).to.deep.equal(['c', 'a'].filter((id) => expected[id === 'a' ? 0 : 2] === 2));
    });
  }

  it('escalates through two supervisor levels to the root, which stops the system with the reason', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 0,
      children: [
        { id: 'first', module: actors('echo') },
        {
          id: 'mid',
          strategy: 'one_for_one',
          intensity: 1,
          period: 60_000,
          children: [
            { id: 'x', module: actors('crasher'), maxRedeliveries: 0 },
            { id: 'y', module: actors('echo') },
          ],
        },
        { id: 'last', module: actors('echo') },
      ],
    });
    system.ref('x').tell({ op: 'throw' });
    await until(() => find(events, 'restarted', 'x'), 'x to restart once');
    system.ref('x').tell({ op: 'throw' });
    const reason = await system.whenStopped();
    expect(reason).to.match(/^escalated: .*'mid' crashed \(escalated: .*'x' crashed/);
    const escalated = events.filter((e): e is Extract<SystemEvent, { type: 'escalated' }> => e.type === 'escalated').map((e) => e.supervisor);
    expect(escalated).to.deep.equal(['mid', 'root']);
    const stopped = events.filter((e) => e.type === 'stopped').map((e) => (e as { actor: string }).actor);
    // mid stops its children newest first; then the root stops the rest newest first.
    expect(stopped).to.deep.equal(['y', 'last', 'first']);
    expect(events.at(-1)!.type).to.equal('system-stopped');
  });

  it('delivers messages sent while an actor backs off to its next incarnation, in order', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'w', module: actors('echo'), backoff: { min: 400, max: 1000, randomFactor: 0 } }],
    });
    await system.ref('w').ask({ op: 'stop' }); // permanent: comes back after the backoff
    await until(() => find(events, 'restarting', 'w'), 'the backoff to begin');
    for (let i = 0; i < 200; i++) system.ref('w').tell({ op: 'record', seq: i });
    const records = await system.ref('w').ask({ op: 'records' }, { timeout: 10_000 });
    expect(records).to.deep.equal([...Array(200).keys()]);
    expect(find(events, 'restarting', 'w')!.delayMs).to.equal(400);
    expect(find(events, 'crashed', 'w')).to.equal(undefined); // a self-stop is not a crash
  });

  it('by default dead-letters the message an actor died on with the crash as its reason: one bad message, one restart', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 1, // a second crash on the same message would escalate the root
      children: [{ id: 'p', module: actors('crasher') }],
    });
    const ref = system.ref('p');
    ref.tell({ op: 'crash-if', when: 3, seq: 1 });
    ref.tell({ op: 'crash-if', when: 3, seq: 3 });
    const after = ref.ask({ op: 'crash-if', when: 3, seq: 4 }, { timeout: 20_000 });
    expect(await after).to.equal(4); // queued behind the bad one, it survived the crash
    expect(events.filter((e) => e.type === 'crashed')).to.have.length(1);
    const letters = system.deadLetters();
    expect(letters).to.have.length(1);
    expect(letters[0]).to.deep.include({ to: 'p', kind: 'tell', payload: { op: 'crash-if', when: 3, seq: 3 } });
    expect(letters[0]!.reason).to.match(/crashed: exception: .*crash on message 3/);
    expect(system.state).to.equal('running');
  });

  it('redelivers the message an actor died on, then dead-letters it as poison after maxRedeliveries', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 10,
      children: [{ id: 'p', module: actors('crasher'), maxRedeliveries: 2 }],
    });
    const ref = system.ref('p');
    ref.tell({ op: 'crash-if', when: 3, seq: 1 });
    ref.tell({ op: 'crash-if', when: 3, seq: 3 });
    const after = ref.ask({ op: 'crash-if', when: 3, seq: 4 }, { timeout: 20_000 });
    expect(await after).to.equal(4);
    const crashes = events.filter((e) => e.type === 'crashed');
    expect(crashes.map((e) => (e as { incarnation: number }).incarnation)).to.deep.equal([1, 2, 3]);
    const letters = system.deadLetters();
    expect(letters).to.have.length(1);
    expect(letters[0]).to.deep.include({ to: 'p', kind: 'tell', payload: { op: 'crash-if', when: 3, seq: 3 } });
    expect(letters[0]!.reason).to.match(/^poison: .*message 3/);
  });

  it('does not count a deliberate stop as a crash: transient ends, permanent comes back', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 1, // as in OTP, bringing a permanent child back is a restart like any other
      children: [
        { id: 't', module: actors('echo'), restart: 'transient' },
        { id: 'p', module: actors('echo'), restart: 'permanent' },
      ],
    });
    await system.ref('t').ask({ op: 'stop', reason: 'job done' });
    await system.ref('p').ask({ op: 'stop', reason: 'recycle' });
    await until(() => find(events, 'restarted', 'p'), 'p to come back');
    expect(find(events, 'stopped', 't')).to.deep.include({ reason: 'job done' });
    expect(events.filter((e) => e.type === 'crashed')).to.deep.equal([]);
    expect(system.status().find((s) => s.id === 't')).to.deep.include({ state: 'stopped', incarnation: 1 });
  });

  it('gives a graceful stop its timeout, and brutal_kill none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-stop-'));
    try {
      const marker = (n: string): string => join(dir, n);
      const { system } = await systems.start({
        id: 'root',
        strategy: 'one_for_one',
        children: [
          { id: 'patient', module: actors('slow-stop'), shutdown: 5000, config: { stopMs: 200, marker: marker('patient') } },
          { id: 'hurried', module: actors('slow-stop'), shutdown: 50, config: { stopMs: 2000, marker: marker('hurried') } },
          { id: 'killed', module: actors('slow-stop'), shutdown: 'brutal_kill', config: { stopMs: 0, marker: marker('killed') } },
        ],
      });
      await system.stop();
      expect([existsSync(marker('patient')), existsSync(marker('hurried')), existsSync(marker('killed'))]).to.deep.equal([true, false, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds dynamic children to a simple_one_for_one supervisor and supervises them', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'pool', strategy: 'simple_one_for_one', template: { module: actors('echo'), config: { kind: 'worker' } }, children: [] }],
    });
    const w1 = await system.spawn('pool', { id: 'w1' });
    const w2 = await system.spawn('pool', { id: 'w2', config: { kind: 'special' } });
    expect(await w1.ask({ op: 'whoami' })).to.deep.include({ id: 'w1', config: { kind: 'worker' } });
    expect(await w2.ask({ op: 'whoami' })).to.deep.include({ id: 'w2', config: { kind: 'special' } });
    expect(system.status().filter((s) => s.parent === 'pool').map((s) => s.id)).to.deep.equal(['w1', 'w2']);
    await w1.ask({ op: 'stop' }); // permanent by default: restarted
    await until(() => find(events, 'restarted', 'w1'), 'w1 to restart');
    await system.spawn('pool', { id: 'w1' }).then(
      () => expect.fail('a duplicate id must be refused'),
      (err: Error) => expect(err.message).to.match(/'w1' is already used/),
    );
  });

  it('fails the start, naming the actor, when init never finishes (initTimeoutMs)', async () => {
    const start = ActorSystem.start({
      name: 'init-deadline',
      log: { level: 'silent' },
      tree: {
        id: 'root',
        strategy: 'one_for_one',
        intensity: 0,
        children: [
          { id: 'fine', module: actors('echo') },
          { id: 'stuck', module: actors('crasher'), config: { hangInInit: true }, initTimeoutMs: 300 },
        ],
      },
    });
    const err = await start.then(
      (s) => s.stop().then(() => expect.fail('the start must fail')),
      (e: Error) => e,
    );
    expect(err.message).to.match(/'stuck' failed to start/).and.match(/initTimeoutMs \(300 ms\)/);
  });

  for (const how of ['system.stop', 'stopActor'] as const) {
    it(`settles asks to an actor waiting out its backoff at once when it is stopped (${how})`, async () => {
      const { system, events } = await systems.start({
        id: 'root',
        strategy: 'one_for_one',
        children: [
          { id: 'other', module: actors('echo') },
          { id: 'slow', module: actors('crasher'), backoff: { min: 60_000, max: 60_000, randomFactor: 0 } },
        ],
      });
      system.ref('slow').tell({ op: 'throw' });
      await until(() => system.status().find((s) => s.id === 'slow')?.state === 'backing-off', 'the backoff to begin');
      const asked = system.ref('slow').ask({ op: 'echo', value: 1 }, { timeout: 50_000 });
      const settled = asked.then(
        () => expect.fail('nothing answers while backing off'),
        (e: Error & { code?: string }) => e,
      );
      if (how === 'system.stop') await system.stop();
      else await system.stopActor('slow');
      const err = await settled; // well before the ask's own 50 s: the mocha timeout would catch a wait
      expect(err.code).to.equal('ERR_ACTOR_STOPPED');
      expect(find(events, 'restarted', 'slow')).to.equal(undefined);
    });
  }

  it('on stop, answers an actor that awaits an ask to a sibling waiting out its backoff, instead of letting it time out', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'asker', module: actors('echo'), shutdown: 30_000 },
        { id: 'slow', module: actors('crasher'), backoff: { min: 60_000, max: 60_000, randomFactor: 0 } },
      ],
    });
    system.ref('slow').tell({ op: 'throw' });
    await until(() => system.status().find((s) => s.id === 'slow')?.state === 'backing-off', 'the backoff to begin');
    const outer = system.ref('asker').ask<{ error?: string }>({ op: 'ask', to: 'slow', msg: { op: 'echo', value: 1 }, timeout: 25_000 }, { timeout: 40_000 });
    await until(() => system.status().find((s) => s.id === 'slow')!.inboxDepth === 1, 'the inner ask to wait in slow’s inbox');
    await system.stop(); // the asker drains last; its handler must not wait 25 s
    expect(await outer).to.deep.include({ error: 'ERR_ACTOR_STOPPED' });
  });

  it('deletes a dynamic child that is stopped or that ends as temporary, so its id can be spawned again', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'pool', strategy: 'simple_one_for_one', template: { module: actors('echo'), restart: 'temporary' }, children: [] }],
    });
    const children = (): string[] => system.status().filter((s) => s.parent === 'pool').map((s) => s.id);
    await system.spawn('pool', { id: 'w1' });
    await system.spawn('pool', { id: 'w2' });
    await system.stopActor('w1'); // OTP's terminate_child on a simple_one_for_one child deletes it
    await system.ref('w2').ask({ op: 'stop', reason: 'done' }); // a temporary child that ends is gone too
    await until(() => children().length === 0, 'both children to be deleted');
    expect(system.tree.children[0]).to.deep.include({ children: [] });
    const again = await system.spawn('pool', { id: 'w1' });
    expect(await again.ask({ op: 'whoami' })).to.deep.include({ id: 'w1' });
    await system.spawn('pool', { id: 'w2' });
    expect(children()).to.deep.equal(['w1', 'w2']);
  });

  it('stops the system while dynamic children are being stopped or stop themselves: the stop resolves and no worker is left', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'pool', strategy: 'simple_one_for_one', template: { module: actors('echo'), restart: 'temporary' }, children: [] }],
    });
    await system.spawn('pool', { id: 'w1' });
    await system.spawn('pool', { id: 'w2' });
    const threads = (): number => system.status().filter((s) => s.kind === 'actor' && s.state === 'running').length;
    expect(threads()).to.equal(2);
    // Each ends, and is forgotten, while the final stop goes through the children it listed.
    const results = await Promise.allSettled([system.stopActor('w1'), system.ref('w2').ask({ op: 'stop', reason: 'done' }), system.stop()]);
    expect(results[2]).to.deep.equal({ status: 'fulfilled', value: undefined });
    expect(results[0].status).to.equal('fulfilled');
    expect(await system.whenStopped()).to.be.a('string');
    expect(threads()).to.equal(0);
  });

  it('shuts a supervisor down when its significant child ends, without a restart from its parent', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'keeper', module: actors('echo') },
        {
          id: 'job-sup',
          strategy: 'one_for_one',
          autoShutdown: 'any_significant',
          restart: 'transient',
          children: [
            { id: 'helper', module: actors('echo') },
            { id: 'job', module: actors('echo'), restart: 'transient', significant: true },
          ],
        },
      ],
    });
    await system.ref('job').ask({ op: 'stop', reason: 'finished' });
    await until(() => find(events, 'auto-shutdown'), 'the auto shutdown');
    await until(() => find(events, 'stopped', 'helper'), 'helper to stop');
    const byId = Object.fromEntries(system.status().map((s) => [s.id, s.state]));
    expect(byId).to.deep.include({ keeper: 'running', helper: 'stopped', job: 'stopped' });
    expect(events.filter((e) => e.type === 'crashed' || e.type === 'restarted')).to.deep.equal([]);
    expect(await system.ref('keeper').ask({ op: 'echo', value: 'still here' })).to.equal('still here');
  });

  it('restarts from a standby worker with a fresh incarnation that keeps its inbox', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 's', module: actors('crasher'), standby: true, maxRedeliveries: 0 }],
    });
    await until(() => system.status().find((x) => x.id === 's')?.standby === 'ready', 'the spare to be ready');
    const ref = system.ref('s');
    ref.tell({ op: 'throw' });
    const answers = [1, 2, 3].map((v) => ref.ask({ op: 'echo', value: v }, { timeout: 10_000 }));
    expect(await Promise.all(answers)).to.deep.equal([1, 2, 3]);
    expect(find(events, 'restarted', 's')).to.deep.include({ incarnation: 2 });
  });

  it('keeps watching an actor after it was restarted along with a sibling', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_all',
      intensity: 10,
      children: [
        { id: 'a', module: actors('crasher'), maxRedeliveries: 0 },
        { id: 'b', module: actors('crasher'), maxRedeliveries: 0 },
      ],
    });
    system.ref('a').tell({ op: 'throw' });
    await until(() => events.filter((e) => e.type === 'restarted').length === 2, 'both to restart');
    system.ref('b').tell({ op: 'exit', code: 3 }); // b was stopped and started by a's crash: its end must still be seen
    await until(() => find(events, 'crashed', 'b'), "b's crash");
    await until(() => events.filter((e) => e.type === 'restarted').length === 4, 'both to restart again');
    expect(await system.ref('b').ask({ op: 'echo', value: 'back' })).to.equal('back');
    expect(incarnations(system, ['a', 'b'])).to.deep.equal([3, 3]);
  });

  it('lets an actor ask another while its init runs', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'settings', module: actors('echo') },
        { id: 'user', module: actors('init-asker'), dependencies: ['settings'] },
      ],
    });
    expect(await system.ref('user').ask({})).to.deep.equal({ limit: 42 });
  });

  it('dead-letters a queued message too large for its ring, and keeps delivering to that actor', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'small', module: actors('echo'), ringBytes: 4096 },
        { id: 'sender', module: actors('echo') },
      ],
    });
    // The sender's first message to 'small' waits for its ring; then it turns out larger than the ring holds.
    await system.ref('sender').ask({ op: 'tell', to: 'small', msg: { op: 'echo', value: 'x'.repeat(3000) } });
    await until(() => system.deadLetters().some((d) => d.to === 'small' && /exceeds the limit/.test(d.reason)), 'the dead letter');
    expect(await system.ref('sender').ask({ op: 'ask', to: 'small', msg: { op: 'echo', value: 'ok' } })).to.deep.equal({ ok: 'ok' });
  });
});
