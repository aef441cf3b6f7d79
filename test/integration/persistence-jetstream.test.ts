import { expect } from 'chai';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ActorCrashedError, type ActorSystem, type SystemOptions } from '../../src/index.js';
import { streamName, subjectOf } from '../../src/persistence/jetstream-layout.js';
import type Ledger from '../fixtures/actors/ledger.js';
import type { LedgerState } from '../fixtures/actors/ledger.js';
import { freePort, NatsServer, needNatsServer } from '../helpers/nats-server.js';
import { runAndKill } from './persist-kill.js';
import { actors, find, Systems, until } from './system-helpers.js';

describe('persistent actors on JetStream (real workers, a real nats-server)', function () {
  this.timeout(120_000);
  const systems = new Systems();
  let server: NatsServer;
  let nc: NatsConnection;
  let n = 0;
  /** Each test is a system of its own name: a stream of its own. */
  let name = '';
  before(async function () {
    needNatsServer(this);
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await server?.dispose();
  });
  beforeEach(() => (name = `js${++n}`));
  afterEach(() => systems.stopAll());

  const persistence = (): SystemOptions['persistence'] => ({ backend: 'jetstream', jetstream: { servers: server.url } });
  const tree = (...ids: Array<[id: string, module: string]>): SystemOptions['tree'] => ({
    id: 'root',
    strategy: 'one_for_one',
    children: ids.map(([id, module]) => ({ id, module: actors(module), backoff: { min: 10, max: 10 } })),
  });
  const start = (t = tree(['ledger', 'ledger'])): ReturnType<Systems['start']> => systems.start(t, { name, persistence: persistence() });
  const stateOf = (system: ActorSystem, id = 'ledger'): Promise<LedgerState> => system.ref<typeof Ledger>(id).ask({ op: 'state' }) as Promise<LedgerState>;

  it('keeps its state across a crash: the next incarnation recovers every acknowledged event before its first message', async () => {
    const { system, events } = await start();
    const ledger = system.ref<typeof Ledger>('ledger');
    for (let id = 1; id <= 25; id++) expect(await ledger.ask({ op: 'deposit', id, amount: 2 })).to.equal(id * 2);
    expect(await ledger.ask({ op: 'crash' }).catch((e: unknown) => e)).to.be.instanceOf(ActorCrashedError);
    await until(() => find(events, 'restarted', 'ledger'), 'the restart');
    const s = await stateOf(system);
    expect([s.incarnation, s.balance, s.ids]).to.deep.equal([2, 50, Array.from({ length: 25 }, (_, i) => i + 1)]);
  });

  it('keeps its state when the whole system stops and a new one of the same name starts on the same server', async () => {
    const model: number[] = [];
    const first = (await start()).system;
    await first.ref<typeof Ledger>('ledger').ask({ op: 'deposit-many', ids: [1, 2, 3], amount: 5 });
    model.push(5, 5, 5);
    for (let id = 4; id <= 30; id++) {
      await first.ref<typeof Ledger>('ledger').ask({ op: 'deposit', id, amount: id });
      model.push(id);
    }
    await systems.stopAll();
    const second = (await start()).system;
    const s = await stateOf(second);
    expect([s.balance, s.ids, s.incarnation]).to.deep.equal([model.reduce((a, b) => a + b, 0), Array.from({ length: 30 }, (_, i) => i + 1), 1]);
  });

  it('two systems on one journal: the later start fences the earlier writer off, whose persist crashes it with JournalFencedError', async () => {
    const a = (await start()).system;
    await a.ref<typeof Ledger>('ledger').ask({ op: 'deposit', id: 1, amount: 1 });
    const b = (await start()).system; // its ledger claims the journal: epoch 2
    expect((await stateOf(b)).ids).to.deep.equal([1]);
    const err = (await a.ref<typeof Ledger>('ledger').ask({ op: 'deposit', id: 2, amount: 1 }).catch((e: unknown) => e)) as ActorCrashedError;
    expect(err).to.be.instanceOf(ActorCrashedError);
    expect((err.cause as Error).name).to.equal('JournalFencedError');
    expect((err.cause as Error).message).to.match(/lost its journal: it claimed epoch 1, and epoch 2 has been claimed since/);
    // Restarted, A claims epoch 3; B's write is now the one refused, and its ctx.reply never goes out.
    await until(() => a.status().find((x) => x.id === 'ledger' && x.incarnation === 2 && x.state === 'running'), "A's restart");
    const b2 = (await b.ref<typeof Ledger>('ledger').ask({ op: 'deposit-reply', id: 3, amount: 1 }).catch((e: unknown) => e)) as ActorCrashedError;
    expect(b2, 'no answer for a write that failed').to.be.instanceOf(ActorCrashedError);
    expect((b2.cause as Error).name).to.equal('JournalFencedError');
    await a.stop();
    await b.restartActor('ledger');
    expect((await stateOf(b)).ids, 'nothing of the fenced writes').to.deep.equal([1]);
  });

  it('recovers from a snapshot and its tail (pruned or not) the same state as a full replay, and the model', async () => {
    const ids: Array<[string, string]> = [
      ['snapshots', 'ledger'], // a snapshot every 10 events, every event kept
      ['pruned', 'ledger-pruned'], // a snapshot every 7, then a prune
      ['replay', 'ledger-replay'], // no snapshot: every start replays all
    ];
    const first = (await start(tree(...ids))).system;
    let balance = 0;
    for (let i = 1; i <= 47; i++) {
      const batch = i % 5 === 0 ? [i, i + 1000] : [i];
      balance += batch.length * i;
      for (const [id] of ids) await first.ref<typeof Ledger>(id).ask(batch.length > 1 ? { op: 'deposit-many', ids: batch, amount: i } : { op: 'deposit', id: i, amount: i });
    }
    await systems.stopAll();
    const second = (await start(tree(...ids))).system;
    const states = await Promise.all(ids.map(([id]) => stateOf(second, id)));
    for (const s of states) expect({ balance: s.balance, ids: s.ids }).to.deep.equal({ balance: states[2]!.balance, ids: states[2]!.ids });
    expect(states[2]!.balance).to.equal(balance);
    // The snapshots were there to recover from, and the pruned journal kept only what its latest snapshot does not cover.
    const jsm = await jetstreamManager(nc);
    const stream = streamName(name);
    const on = async (pid: string): Promise<number> =>
      (await jsm.streams.info(stream, { subjects_filter: subjectOf(name, pid) })).state.subjects?.[subjectOf(name, pid)] ?? 0;
    const last = async (pid: string): Promise<string> => (await jsm.streams.getMessage(stream, { last_by_subj: subjectOf(name, pid) }))!.header.get('Rm-Snapshot');
    expect(await last('snapshots')).to.not.equal('0');
    expect(await last('replay')).to.equal('0');
    expect(await on('pruned')).to.be.below(10);
    expect(await on('replay')).to.be.above(47);
  });

  it('crashes a persistent actor whose NATS server does not answer at its start (cause init), naming the servers', async () => {
    const port = await freePort();
    const started = Date.now();
    const { system } = await systems.start(
      { id: 'root', strategy: 'one_for_one', children: [{ id: 'ledger', module: actors('ledger'), restart: 'temporary' }] },
      { name, persistence: { backend: 'jetstream', jetstream: { servers: `127.0.0.1:${port}`, connectTimeoutMs: 1000 } } },
    );
    const crash = await until(() => system.status().find((x) => x.id === 'ledger')?.lastCrash, 'the crash');
    expect(crash.cause).to.equal('init');
    expect(crash.reason).to.match(new RegExp(`^PersistenceError: actor 'ledger' \\(persistence id 'ledger'\\): cannot connect to NATS at 127\\.0\\.0\\.1:${port}: `));
    expect(Date.now() - started, 'within the connect timeout, not hanging').to.be.below(10_000);
  });

  it('has every acknowledged event after each SIGKILL of its process mid-traffic, none twice, and the state equals the model', async () => {
    const first = await runAndKill(server.url, 300);
    expect(first.recovered).to.equal(0);
    const second = await runAndKill(server.url, 300);
    // The second process recovered at least what the first acknowledged (one more may have been durable but unacknowledged).
    expect(second.recovered).to.be.within(first.lastAck, first.lastAck + 1);
    const { system } = await systems.start(tree(['ledger', 'ledger']), { name: 'persist-child', persistence: persistence() });
    const s = await stateOf(system);
    expect(s.ids.length).to.be.within(second.lastAck, second.lastAck + 1);
    expect(s.ids, 'every id once, in order, no gap').to.deep.equal(Array.from({ length: s.ids.length }, (_, i) => i + 1));
    expect(s.balance).to.equal((s.ids.length * (s.ids.length + 1)) / 2);
  });
});
