import { expect } from 'chai';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { JournalFencedError, PersistenceError } from '../../src/index.js';
import type { PersistenceStore } from '../../src/persistence/journal.js';
import { acquire } from '../../src/persistence/jetstream-connection.js';
import { encodeBody, journalSubjects, streamName, subjectOf, systemToken } from '../../src/persistence/jetstream-layout.js';
import { JetStreamBackend } from '../helpers/journal-backends.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';

const failed = (p: Promise<unknown>): Promise<unknown> => p.then(
  () => new Error('it did not fail'),
  (e: unknown) => e,
);

describe('the JetStream journal on its own (a real nats-server)', function () {
  this.timeout(60_000);
  const backend = new JetStreamBackend();
  let jsm: JetStreamManager;
  const open: PersistenceStore[] = [];
  const store = (actor = 'a', config = backend.config()): PersistenceStore => {
    const s = backend.open(actor, config);
    open.push(s);
    return s;
  };
  /** How many messages `pid`'s subject holds. */
  const count = async (pid: string): Promise<number> => {
    const info = await jsm.streams.info(streamName(backend.system), { subjects_filter: subjectOf(backend.system, pid) });
    return info.state.subjects?.[subjectOf(backend.system, pid)] ?? 0;
  };
  before(async function () {
    await backend.setup(this);
    jsm = await jetstreamManager(backend.nc!);
  });
  after(() => backend.teardown());
  beforeEach(() => backend.fresh());
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('names the stream and subjects after the system, and keeps persistence ids of any characters apart', async () => {
    expect([streamName('trading'), journalSubjects('trading'), subjectOf('trading', 'portfolio')]).to.deep.equal(['RM_trading', 'rm.trading.j.>', 'rm.trading.j.cG9ydGZvbGlv']);
    // A name that is not one subject token keeps what it can and gets a fingerprint: two such names never share a stream.
    expect(systemToken('eu.trading')).to.match(/^eu_trading_[0-9a-f]{8}$/);
    expect(systemToken('eu.trading')).to.not.equal(systemToken('eu trading'));
    const s = store();
    const pids = ['a.b', 'a b', 'a>*', 'ünï/cødé', 'a'];
    for (const pid of pids) {
      const { epoch } = await s.claim(pid);
      await s.append(pid, epoch, 1, [`only ${pid}`]);
    }
    for (const pid of pids) {
      const seen: unknown[] = [];
      await s.replay(pid, 0, (e) => seen.push(e.event));
      expect(seen).to.deep.equal([`only ${pid}`]);
    }
  });

  it('makes the stream when it is missing: file storage, every message kept, the system\'s subjects', async () => {
    const s = store();
    await s.claim('p');
    const cfg = (await jsm.streams.info(streamName(backend.system))).config;
    expect(cfg).to.deep.include({ subjects: [journalSubjects(backend.system)], storage: 'file', retention: 'limits', max_age: 0, num_replicas: 1 });
  });

  it('uses an existing stream as it is when it takes the subjects, and refuses one that does not or that drops messages', async () => {
    const name = `OWN_${backend.system.replace(/-/g, '_')}`;
    const mine = `rm.${backend.system}.>`; // wider than the backend's own rm.<system>.j.>
    await jsm.streams.add({ name, subjects: [mine], description: 'made by hand' });
    const s = store('a', backend.config({ stream: name }));
    const { epoch } = await s.claim('p');
    await s.append('p', epoch, 1, ['kept']);
    expect((await jsm.streams.info(name)).config).to.deep.include({ subjects: [mine], description: 'made by hand' });
    await s.close(); // the connection goes with its last journal (and what it knew of the stream with it)
    await jsm.streams.delete(name);

    const other = `other.${backend.system}.>`;
    await jsm.streams.add({ name, subjects: [other] });
    const wrong = await failed(store('a', backend.config({ stream: name })).claim('p'));
    expect(wrong).to.be.instanceOf(PersistenceError);
    expect((wrong as Error).message).to.include(`the stream ${name} exists and does not take ${journalSubjects(backend.system)} (its subjects: ${other})`);
    expect((await jsm.streams.info(name)).config.subjects, 'left as it was').to.deep.equal([other]);
    for (const o of open.splice(0)) await o.close();
    await jsm.streams.delete(name);

    await jsm.streams.add({ name, subjects: [mine], max_age: 3600 * 1e9 });
    const dropping = await failed(store('a', backend.config({ stream: name })).claim('p'));
    expect((dropping as Error).message).to.include(`the stream ${name} removes messages by itself (max_age 3600s): a journal must keep every event`);
    await jsm.streams.delete(name);
  });

  it('refuses a batch larger than the server takes in one message, naming both sizes, and writes none of it', async () => {
    const s = store();
    const { epoch } = await s.claim('p');
    const err = await failed(s.append('p', epoch, 1, [new Uint8Array(600_000), new Uint8Array(600_000)]));
    expect(err).to.be.instanceOf(PersistenceError).with.property('seq', 1);
    expect((err as Error).message).to.match(/the batch of 2 event\(s\) is \d{7} bytes, more than the 1048576 bytes the server takes in one message/);
    await s.append('p', epoch, 1, ['small']);
    expect((await store('b').claim('p')).highestSeq).to.equal(1);
  });

  it('fails to open with a PersistenceError naming the servers, within the connect timeout, when nothing answers', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await failed(store('a', backend.config({ servers: [`nats://127.0.0.1:${port}`], connectTimeoutMs: 1500 })).claim('p'));
    expect(err).to.be.instanceOf(PersistenceError);
    expect((err as Error).message).to.match(new RegExp(`^actor 'a' \\(persistence id 'p'\\): cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: `));
    expect(Date.now() - started).to.be.below(5000);
  });

  it('says so when the server has no JetStream', async () => {
    const plain = await NatsServer.start({ jetstream: false });
    try {
      const err = await failed(store('a', backend.config({ servers: [plain.url] })).claim('p'));
      expect(err).to.be.instanceOf(PersistenceError);
      expect((err as Error).message).to.match(/has no JetStream for this account .*start nats-server with -js/);
    } finally {
      for (const s of open.splice(0)) await s.close();
      await plain.dispose();
    }
  });

  it('purges at prune what the snapshot covers, keeping the snapshot and the last message', async () => {
    const s = store();
    const { epoch } = await s.claim('p');
    for (let i = 1; i <= 10; i++) await s.append('p', epoch, i, [i]);
    expect(await count('p')).to.equal(11); // the claim and ten batches
    await s.saveSnapshot('p', epoch, 10, { n: 10 });
    await s.prune('p', epoch, 10);
    expect(await count('p')).to.equal(1); // the snapshot, which is the last message too
    await s.append('p', epoch, 11, [11]);
    const other = store('b');
    expect(await other.claim('p')).to.deep.equal({ epoch: 2, highestSeq: 11 });
    expect(await other.latestSnapshot('p')).to.deep.include({ seq: 10, state: { n: 10 } });
    const tail: unknown[] = [];
    await other.replay('p', 10, (e) => tail.push(e.event));
    expect(tail).to.deep.equal([11]);
  });

  it('names the stream sequence of a message that is not a journal message, a corrupt snapshot, and a gap', async () => {
    const s = store();
    const { epoch } = await s.claim('p');
    await s.append('p', epoch, 1, ['one']);
    // A batch that skips events 2-4.
    await backend.publishRaw('p', encodeBody({ firstSeq: 5, at: 0, events: ['five'] }), { 'Rm-Kind': 'events', 'Rm-Epoch': String(epoch), 'Rm-Seq': '5', 'Rm-Snapshot': '0' });
    const gap = await failed(s.replay('p', 0, () => {}));
    expect(gap).to.be.instanceOf(PersistenceError).with.property('seq', 5);
    expect((gap as Error).message).to.include('the journal has a gap: event 2 is missing');

    const snapAt = await backend.publishRaw('q', new Uint8Array([0xc1]), { 'Rm-Kind': 'snapshot', 'Rm-Epoch': '1', 'Rm-Seq': '0', 'Rm-Snapshot': '0' });
    const snap = await failed(s.latestSnapshot('q'));
    expect((snap as Error).message).to.include(`the stored snapshot is corrupt and cannot be decoded (the message at stream sequence ${snapAt} of stream ${streamName(backend.system)}`);

    const strayAt = await backend.publishRaw('r', new Uint8Array([1, 2, 3]), {});
    const stray = await failed(s.claim('r'));
    expect(stray).to.be.instanceOf(PersistenceError);
    expect((stray as Error).message).to.include(`the message at stream sequence ${strayAt} of stream ${streamName(backend.system)} is not a journal message: its Rm-Kind header is missing`);
  });

  it('tells an append that lost a race with a new claim from one that collided with a writer of its own epoch', async () => {
    const s = store('old');
    const { epoch } = await s.claim('p');
    await s.append('p', epoch, 1, ['x']);
    // Someone publishes on the subject without claiming: not a newer writer, yet the journal moved under this one.
    await backend.publishRaw('p', encodeBody({ firstSeq: 2, at: 0, events: ['y'] }), { 'Rm-Kind': 'events', 'Rm-Epoch': String(epoch), 'Rm-Seq': '2', 'Rm-Snapshot': '0' });
    const err = await failed(s.append('p', epoch, 2, ['z']));
    expect(err).to.be.instanceOf(PersistenceError).and.not.instanceOf(JournalFencedError);
    expect((err as Error).message).to.match(/the journal changed under this writer \(it expected its last message at stream sequence \d+, and it is at \d+; two writers with one epoch\?\)/);
  });

  it('says what is wrong when the stream is deleted under a running writer', async () => {
    const s = store();
    const { epoch } = await s.claim('p');
    await jsm.streams.delete(streamName(backend.system));
    const err = await failed(s.append('p', epoch, 1, ['lost']));
    expect(err).to.be.instanceOf(PersistenceError).with.property('seq', 1);
    expect((err as Error).message).to.include(`the batch of 1 event(s) got no answer 3 times (nothing takes messages on ${subjectOf(backend.system, 'p')}: is JetStream up, and the stream ${streamName(backend.system)} still there?)`);
  });

  it('takes a write whose acknowledgement was lost as written (its retry finds it), and retries one that was not written', async () => {
    const s = store();
    const { epoch } = await s.claim('p');
    // The store's connection is the thread's shared one: reach it to lose answers on purpose.
    const held = acquire(backend.config(), `ringmaster ${backend.system}`);
    const l = await held.link;
    const real = l.js.publish.bind(l.js);
    const lost = (): Error => Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    let mode: 'written' | 'unwritten' | 'off' = 'written';
    l.js.publish = (async (...args: Parameters<typeof real>) => {
      const m = mode;
      mode = 'off';
      if (m === 'unwritten') throw lost();
      const ack = await real(...args);
      if (m === 'written') throw lost();
      return ack;
    }) as typeof l.js.publish;
    try {
      await s.append('p', epoch, 1, ['landed, answer lost']);
      mode = 'unwritten';
      await s.append('p', epoch, 2, ['lost before it landed']);
      await s.append('p', epoch, 3, ['plain']);
    } finally {
      l.js.publish = real;
      await held.release();
    }
    const seen: unknown[] = [];
    await store('b').replay('p', 0, (e) => seen.push(e.event));
    expect(seen, 'each once').to.deep.equal(['landed, answer lost', 'lost before it landed', 'plain']);
    expect(await count('p')).to.equal(4);
  });

  it('keeps writing across a restart of the server (same port, same store folder): a write that got no answer is tried again', async () => {
    const s = store('a', backend.config({ timeoutMs: 1500 }));
    const { epoch } = await s.claim('p');
    await s.append('p', epoch, 1, ['before']);
    await backend.server!.restart();
    await s.append('p', epoch, 2, ['after']);
    const seen: unknown[] = [];
    await store('b').replay('p', 0, (e) => seen.push(e.event));
    expect(seen).to.deep.equal(['before', 'after']);
  });
});
