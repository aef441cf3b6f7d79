import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorCrashedError, ActorSystem } from '../../src/index.js';
import type Ledger from '../fixtures/actors/ledger.js';
import type { LedgerState } from '../fixtures/actors/ledger.js';
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

  it('refuses a persistence option that is not a path, naming it', async () => {
    const err = await ActorSystem.start({ name: 't', tree, persistence: { path: '' }, log: { level: 'silent' } }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'ERR_INVALID_OPTION');
    expect((err as Error).message).to.match(/^persistence\.path /);
  });
});
