import { expect } from 'chai';
import { MailboxFullError, type ActorSystem, type OverflowPolicy } from '../../src/index.js';
import { MSGS_STARTED } from '../../src/liveness/liveness.js';
import { actors, Systems, until } from './system-helpers.js';

/** A mailbox of `capacity` under `overflow`, held busy by a long message while 20 records arrive. */
async function flood(systems: Systems, overflow: OverflowPolicy, extra: Record<string, unknown> = {}): Promise<{ system: ActorSystem; refused: number }> {
  const { system } = await systems.start({
    id: 'root',
    strategy: 'one_for_one',
    children: [{ id: 'box', module: actors('echo'), mailbox: { capacity: 5, overflow, ...extra } }],
  });
  const box = system.ref('box');
  await box.ask({ op: 'echo', value: 'wired' });
  // The answer leaves before its message is released: wait for the place to be given back.
  await until(() => system.status().find((s) => s.id === 'box')?.inboxDepth === 0, 'the wiring message to be released');
  // The held message counts against the bound until it is released: 1 + 4 records fit.
  const started = (): number => system.cell('box')!.record.liveness.read(MSGS_STARTED);
  const before = started();
  box.tell({ op: 'sleep', ms: 1500 });
  // Flood only once the actor holds the long message (else drop-oldest could shed that one too).
  await until(() => started() > before, 'the box to start the long message');
  let refused = 0;
  for (let seq = 0; seq < 20; seq++) {
    try {
      box.tell({ op: 'record', seq });
    } catch (err) {
      expect(err).to.be.instanceOf(MailboxFullError);
      expect(err).to.include({ code: 'ERR_MAILBOX_FULL', actor: 'box', policy: overflow });
      refused++;
    }
  }
  return { system, refused };
}

/** What the box recorded, asked once it is idle (a `system` message is not subject to the bound). */
async function recordsWhenIdle(system: ActorSystem): Promise<number[]> {
  await until(() => system.status().find((s) => s.id === 'box')?.inboxDepth === 0, 'the box to work through its mailbox');
  return system.ref('box').ask<number[]>({ op: 'records' }, { priority: 'system' });
}

function dropped(system: ActorSystem, policy: OverflowPolicy): number {
  return system.metrics().actors.find((a) => a.id === 'box')!.dropped[policy] ?? 0;
}

describe('mailbox bounds and overflow policies (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('drop-newest keeps the first messages and dead-letters the rest, counted', async () => {
    const { system, refused } = await flood(systems, 'drop-newest');
    expect(refused).to.equal(0);
    expect(await recordsWhenIdle(system)).to.deep.equal([0, 1, 2, 3]);
    expect(dropped(system, 'drop-newest')).to.equal(16);
    const letters = system.deadLetters().filter((l) => l.to === 'box');
    expect(letters.map((l) => (l.payload as { seq: number }).seq)).to.deep.equal([...Array(16).keys()].map((i) => i + 4));
    expect(letters.every((l) => l.dropped === 'drop-newest')).to.equal(true);
  });

  it('drop-oldest sheds the oldest when the actor next reads and keeps the newest', async () => {
    const { system } = await flood(systems, 'drop-oldest');
    expect(await recordsWhenIdle(system)).to.deep.equal([15, 16, 17, 18, 19]);
    await until(() => dropped(system, 'drop-oldest') === 15, 'the shed messages to be counted');
    const letters = system.deadLetters().filter((l) => l.dropped === 'drop-oldest');
    expect(letters.map((l) => (l.payload as { seq: number }).seq)).to.deep.equal([...Array(15).keys()]);
  });

  it('fail refuses the sender with MailboxFullError, and still counts and dead-letters each', async () => {
    const { system, refused } = await flood(systems, 'fail');
    expect(refused).to.equal(16);
    const err = await system
      .ref('box')
      .ask({ op: 'echo', value: 'late' })
      .catch((e: Error) => e);
    expect(err).to.be.instanceOf(MailboxFullError);
    expect(await recordsWhenIdle(system)).to.deep.equal([0, 1, 2, 3]);
    expect(dropped(system, 'fail')).to.equal(17);
    expect(system.deadLetters().filter((l) => l.dropped === 'fail')).to.have.length(17);
  });

  it('backpressure holds senders until there is room: nothing lost, order kept', async () => {
    const { system, refused } = await flood(systems, 'backpressure');
    expect(refused).to.equal(0);
    // Held tells wait on the main thread's side, outside inboxDepth: the box can be idle a moment before the
    // last of them is admitted, so ask until all 20 are in (a lost one makes this give up) and then check their order.
    const records = await until(async () => {
      const seen = await recordsWhenIdle(system);
      return seen.length >= 20 && seen;
    }, 'every held record to be handled');
    expect(records).to.deep.equal([...Array(20).keys()]);
    expect(dropped(system, 'backpressure')).to.equal(0);
    expect(system.deadLetters()).to.have.length(0);
  });

  it('backpressure past its wait dead-letters what found no room', async () => {
    const { system } = await flood(systems, 'backpressure', { waitMs: 50 });
    expect(await recordsWhenIdle(system)).to.deep.equal([0, 1, 2, 3]);
    await until(() => dropped(system, 'backpressure') === 16, 'the timed-out sends to be counted');
    expect(system.metrics().deadLetters).to.equal(16);
  });

  it('a bound applies to senders in other actors too', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'box', module: actors('echo'), mailbox: { capacity: 2, overflow: 'fail' } },
        { id: 'peer', module: actors('echo') },
      ],
    });
    await system.ref('peer').ask({ op: 'ask', to: 'box', msg: { op: 'echo', value: 1 } });
    await until(() => system.status().find((s) => s.id === 'box')?.inboxDepth === 0, 'the wiring message to be released');
    system.ref('box').tell({ op: 'sleep', ms: 1500 });
    system.ref('box').tell({ op: 'record', seq: 0 });
    const answer = await system.ref('peer').ask<{ error?: string }>({ op: 'ask', to: 'box', msg: { op: 'echo', value: 2 } });
    expect(answer.error).to.equal('ERR_MAILBOX_FULL');
    // The dead letter comes from the peer's thread by its control port, after the answer.
    await until(() => dropped(system, 'fail') === 1, 'the refused ask to be counted');
  });
});

describe('priority lanes (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('a high message overtakes a flood of normal ones; system overtakes high', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: actors('echo') }] });
    const a = system.ref('a');
    // Wire every lane first, so the test is about order, not about wiring.
    a.tell({ op: 'record', seq: -1 }, { priority: 'high' });
    a.tell({ op: 'record', seq: -2 }, { priority: 'system' });
    await a.ask({ op: 'records' });
    a.tell({ op: 'sleep', ms: 800 });
    for (let seq = 0; seq < 1000; seq++) a.tell({ op: 'record', seq });
    a.tell({ op: 'record', seq: 5000 }, { priority: 'high' });
    a.tell({ op: 'record', seq: 9000 }, { priority: 'system' });
    a.tell({ op: 'record', seq: 5001 }, { priority: 'high' });
    const records = await a.ask<number[]>({ op: 'records' }, { timeout: 20_000 });
    const after = records.slice(2);
    expect(after.slice(0, 3)).to.deep.equal([9000, 5000, 5001]);
    expect(after.slice(3)).to.deep.equal([...Array(1000).keys()]);
  });

  it('an actor sends with a priority too', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('echo') },
        { id: 'b', module: actors('echo') },
      ],
    });
    expect(await system.ref('a').ask({ op: 'ask', to: 'b', msg: { op: 'echo', value: 'x' }, priority: 'high' })).to.deep.equal({ ok: 'x' });
    expect(() => system.ref('a').tell({ op: 'x' }, { priority: 'urgent' as never })).to.throw(/unknown priority 'urgent'/);
  });
});
