import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorCrashedError, ActorSystem } from '../../src/index.js';
import type Ledger from '../fixtures/actors/ledger.js';
import type { LedgerState } from '../fixtures/actors/ledger.js';
import { runAndKill } from './persist-kill.js';
import { actors, find, Systems, until } from './system-helpers.js';

describe('persistent actors on SQLite (real workers, a real database file)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-persist-'))));
  afterEach(async () => {
    await systems.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const tree = { id: 'root', strategy: 'one_for_one' as const, children: [{ id: 'ledger', module: actors('ledger'), backoff: { min: 10, max: 10 } }] };
  const start = (): ReturnType<Systems['start']> => systems.start(tree, { persistence: { path: join(dir, 'journal.db') } });
  const stateOf = (system: ActorSystem): Promise<LedgerState> => system.ref<typeof Ledger>('ledger').ask({ op: 'state' }) as Promise<LedgerState>;

  it('keeps its state across a crash: the next incarnation recovers every acknowledged event before its first message', async () => {
    const { system, events } = await start();
    const ledger = system.ref<typeof Ledger>('ledger');
    for (let id = 1; id <= 25; id++) expect(await ledger.ask({ op: 'deposit', id, amount: 2 })).to.equal(id * 2);
    const err = await ledger.ask({ op: 'crash' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ActorCrashedError);
    await until(() => find(events, 'restarted', 'ledger'), 'the restart');
    const s = await stateOf(system);
    expect(s.incarnation).to.equal(2);
    expect(s.balance).to.equal(50);
    expect(s.ids).to.deep.equal(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('keeps its state across a stop and a new system on the same file; persistAll is all of its events', async () => {
    const first = (await start()).system;
    await first.ref<typeof Ledger>('ledger').ask({ op: 'deposit-many', ids: [1, 2, 3], amount: 5 });
    await first.ref<typeof Ledger>('ledger').ask({ op: 'deposit', id: 4, amount: 1 });
    await systems.stopAll();
    const second = (await start()).system;
    const s = await stateOf(second);
    expect([s.balance, s.ids, s.incarnation]).to.deep.equal([16, [1, 2, 3, 4], 1]);
  });

  it('holds the answer of a handler that did not await its persist until the event is durable and applied', async () => {
    const { system } = await start();
    expect(await system.ref<typeof Ledger>('ledger').ask({ op: 'deposit-unawaited', id: 7, amount: 3 })).to.equal('queued');
    const s = await stateOf(system);
    expect([s.balance, s.ids]).to.deep.equal([3, [7]]);
  });

  it('two systems on one journal: the later start fences the earlier writer off, whose persist crashes it with JournalFencedError', async () => {
    const a = (await start()).system;
    await a.ref<typeof Ledger>('ledger').ask({ op: 'deposit', id: 1, amount: 1 });
    const b = (await start()).system; // its ledger claims the journal: epoch 2
    expect(((await stateOf(b)) as LedgerState).ids).to.deep.equal([1]);
    const err = (await a.ref<typeof Ledger>('ledger').ask({ op: 'deposit', id: 2, amount: 1 }).catch((e: unknown) => e)) as ActorCrashedError;
    expect(err).to.be.instanceOf(ActorCrashedError);
    expect((err.cause as Error).name).to.equal('JournalFencedError');
    expect((err.cause as Error).message).to.match(/lost its journal: it claimed epoch 1, and epoch 2 has been claimed since/);
    // Restarted, A claims epoch 3; B's ctx.reply must not go out before its (now fenced) write.
    await until(() => a.status().find((x) => x.id === 'ledger' && x.incarnation === 2 && x.state === 'running'), "A's restart");
    const b2 = (await b.ref<typeof Ledger>('ledger').ask({ op: 'deposit-reply', id: 3, amount: 1 }).catch((e: unknown) => e)) as ActorCrashedError;
    expect(b2, 'no answer for a write that failed').to.be.instanceOf(ActorCrashedError);
    expect((b2.cause as Error).name).to.equal('JournalFencedError');
    await a.stop();
    // Nothing of the fenced write reached the journal.
    await b.restartActor('ledger');
    expect((await stateOf(b)).ids).to.deep.equal([1]);
  });

  it('takes writes from several persistent actors at once into one file, none lost (their threads take turns at the write lock)', async () => {
    const ids = ['l1', 'l2', 'l3', 'l4', 'l5'];
    const { system } = await systems.start(
      { id: 'root', strategy: 'one_for_one', children: ids.map((id) => ({ id, module: actors('ledger') })) },
      { persistence: { path: join(dir, 'shared.db') } },
    );
    await Promise.all(
      ids.map(async (id) => {
        for (let n = 1; n <= 60; n++) await system.ref<typeof Ledger>(id).ask({ op: 'deposit', id: n, amount: 1 });
      }),
    );
    await systems.stopAll();
    const again = (await systems.start({ id: 'root', strategy: 'one_for_one', children: ids.map((id) => ({ id, module: actors('ledger') })) }, { persistence: { path: join(dir, 'shared.db') } })).system;
    for (const id of ids) {
      const s = (await again.ref<typeof Ledger>(id).ask({ op: 'state' })) as LedgerState;
      expect([id, s.balance, s.ids.length]).to.deep.equal([id, 60, 60]);
    }
  });

  it('answers a ctx.reply once the persist before it is durable; an unwritten persist of a handler that then throws is not written', async () => {
    const { system, events } = await start();
    const ledger = system.ref<typeof Ledger>('ledger');
    expect(await ledger.ask({ op: 'deposit-reply', id: 1, amount: 2 })).to.equal('replied');
    expect((await stateOf(system)).ids).to.deep.equal([1]);
    expect(await ledger.ask({ op: 'deposit-then-throw', id: 2, amount: 2 }).catch((e: unknown) => e)).to.be.instanceOf(ActorCrashedError);
    await until(() => find(events, 'restarted', 'ledger'), 'the restart');
    const s = await stateOf(system);
    expect([s.ids, s.balance, s.incarnation]).to.deep.equal([[1], 2, 2]);
  });

  it('refuses a persistence option that is not a path, naming it', async () => {
    const err = await ActorSystem.start({ name: 't', tree, persistence: { path: '' }, log: { level: 'silent' } }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'ERR_INVALID_OPTION');
    expect((err as Error).message).to.match(/^persistence\.path /);
  });
});

describe('a persistent actor after its process is killed with SIGKILL mid-traffic (real processes)', function () {
  this.timeout(120_000);
  const systems = new Systems();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-sigkill-'))));
  afterEach(async () => {
    await systems.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has every acknowledged event after each kill, none twice, none half-written, and the state equals the model', async () => {
    const path = join(dir, 'journal.db');
    const first = await runAndKill(path, 300);
    expect(first.recovered).to.equal(0);
    const second = await runAndKill(path, 300);
    // The second process recovered at least what the first acknowledged (one more deposit may have been durable but unacknowledged).
    expect(second.recovered).to.be.within(first.lastAck, first.lastAck + 1);
    const { system } = await systems.start(
      { id: 'root', strategy: 'one_for_one', children: [{ id: 'ledger', module: actors('ledger') }] },
      { persistence: { path } },
    );
    const s = (await system.ref<typeof Ledger>('ledger').ask({ op: 'state' })) as LedgerState;
    expect(s.ids.length).to.be.within(second.lastAck, second.lastAck + 1);
    expect(s.ids, 'every id once, in order, no gap').to.deep.equal(Array.from({ length: s.ids.length }, (_, i) => i + 1));
    expect(s.balance).to.equal((s.ids.length * (s.ids.length + 1)) / 2);
  });
});
