import { expect } from 'chai';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalFencedError, PersistenceError } from '../../src/index.js';
import type { PersistenceStore } from '../../src/persistence/journal.js';
import { Persister } from '../../src/persistence/persister.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/persistence/sqlite.js';
import { JetStreamBackend, SqliteBackend, type Backend } from '../helpers/journal-backends.js';

type Ev = { k: string; v: number };
type St = Record<string, number>;
const apply = (s: St, e: unknown): St => {
  const { k, v } = e as Ev;
  return { ...s, [k]: (s[k] ?? 0) + v };
};
/** The model: the state after every event, from scratch. */
const fold = (events: Ev[]): St => events.reduce<St>((s, e) => apply(s, e), {});
const failed = (p: Promise<unknown>): Promise<unknown> => p.then(
  () => new Error('it did not fail'),
  (e: unknown) => e,
);

// The same contract, word for word, over every backend: what a Persister (and so a persistent actor) relies on.
for (const backend of [new SqliteBackend(), new JetStreamBackend()] as Backend[]) {
  describe(`the journal and snapshot store contract on ${backend.name} (a real ${backend.name === 'SQLite' ? 'database file' : 'nats-server'})`, function () {
    this.timeout(120_000);
    const open: PersistenceStore[] = [];
    const store = (actor = 'a'): PersistenceStore => {
      const s = backend.open(actor);
      open.push(s);
      return s;
    };
    before(async function () {
      await backend.setup(this);
    });
    after(() => backend.teardown());
    beforeEach(() => backend.fresh());
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      backend.cleanup();
    });

    it('claims an empty journal at epoch 1, and appends and replays plain data in order', async () => {
      const s = store();
      const { epoch, highestSeq } = await s.claim('p');
      expect([epoch, highestSeq]).to.deep.equal([1, 0]);
      await s.append('p', epoch, 1, [{ a: 1 }, { list: [1, 'two', null, true], bytes: new Uint8Array([1, 2]) }]);
      await s.append('p', epoch, 3, [{ when: new Date(5) }]);
      const seen: unknown[] = [];
      expect(await s.replay('p', 0, (e) => seen.push([e.seq, e.event]))).to.equal(3);
      expect(seen).to.deep.equal([
        [1, { a: 1 }],
        [2, { list: [1, 'two', null, true], bytes: new Uint8Array([1, 2]) }],
        [3, { when: new Date(5) }],
      ]);
      const after: number[] = [];
      expect(await s.replay('p', 2, (e) => after.push(e.seq))).to.equal(3);
      expect(after).to.deep.equal([3]);
      expect(await s.replay('nobody', 0, () => expect.fail('an empty journal has no events'))).to.equal(0);
      expect(await s.latestSnapshot('nobody')).to.equal(undefined);
    });

    it('fences off the earlier writer: after a second claim its appends, snapshots and prunes fail with JournalFencedError and write nothing', async () => {
      const older = store('old');
      const newer = store('new');
      const a = await older.claim('p');
      await older.append('p', a.epoch, 1, ['x']);
      const b = await newer.claim('p');
      expect([b.epoch, b.highestSeq]).to.deep.equal([2, 1]);
      const err = await failed(older.append('p', a.epoch, 2, ['y']));
      expect(err).to.be.instanceOf(JournalFencedError);
      expect((err as Error).message).to.equal(
        "actor 'old' (persistence id 'p') lost its journal: it claimed epoch 1, and epoch 2 has been claimed since (a newer incarnation or another process writes it now); nothing was written",
      );
      expect(await failed(older.saveSnapshot('p', a.epoch, 1, {}))).to.be.instanceOf(JournalFencedError);
      expect(await failed(older.prune('p', a.epoch, 1))).to.be.instanceOf(JournalFencedError);
      await newer.append('p', b.epoch, 2, ['z']);
      const seen: unknown[] = [];
      await newer.replay('p', 0, (e) => seen.push(e.event));
      expect(seen).to.deep.equal(['x', 'z']);
      expect(await newer.latestSnapshot('p')).to.equal(undefined);
    });

    it('gives racing claimers distinct epochs: the last one writes, the others are fenced', async () => {
      const writers = [store('w1'), store('w2'), store('w3')];
      const claims = await Promise.all(writers.map((w) => w.claim('p')));
      const epochs = claims.map((c) => c.epoch);
      expect([...epochs].sort()).to.deep.equal([1, 2, 3]);
      const results = await Promise.all(writers.map((w, i) => w.append('p', epochs[i]!, 1, [`from ${i}`]).then(() => 'ok', (e: unknown) => e)));
      results.forEach((r, i) => (epochs[i] === 3 ? expect(r).to.equal('ok') : expect(r).to.be.instanceOf(JournalFencedError)));
    });

    it('refuses a sequence number already in the journal, naming it', async () => {
      const s = store();
      const { epoch } = await s.claim('p');
      await s.append('p', epoch, 1, ['x']);
      const err = await failed(s.append('p', epoch, 1, ['again']));
      expect(err).to.be.instanceOf(PersistenceError);
      expect((err as Error).message).to.equal("actor 'a' (persistence id 'p', sequence number 1): appending failed: that sequence number is in the journal already (two writers?)");
    });

    it('takes appends issued back to back without waiting, in order', async () => {
      const s = store();
      const { epoch } = await s.claim('p');
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.append('p', epoch, i + 1, [i + 1])));
      const seen: unknown[] = [];
      await s.replay('p', 0, (e) => seen.push(e.event));
      expect(seen).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await store('b').claim('p')).highestSeq).to.equal(20);
    });

    it('names the actor and the sequence number of an event that cannot be decoded', async () => {
      const s = store();
      const { epoch } = await s.claim('p');
      await s.append('p', epoch, 1, ['ok']);
      await backend.corruptSecond(s, 'p', epoch);
      const seen: unknown[] = [];
      const corrupt = await failed(s.replay('p', 0, (e) => seen.push(e.event)));
      expect(corrupt).to.be.instanceOf(PersistenceError).with.property('seq', 2);
      expect((corrupt as Error).message).to.match(/^actor 'a' \(persistence id 'p', sequence number 2\): the stored event is corrupt and cannot be decoded/);
      expect(seen).to.deep.equal(['ok']);
    });

    it('keeps the latest snapshot; prune removes what it covers and keeps the journal recoverable and fenced', async () => {
      const s = store('old');
      const { epoch } = await s.claim('p');
      for (let i = 1; i <= 6; i++) await s.append('p', epoch, i, [i]);
      await s.saveSnapshot('p', epoch, 3, { upTo: 3 });
      await s.saveSnapshot('p', epoch, 5, { upTo: 5 });
      expect(await s.latestSnapshot('p')).to.deep.include({ seq: 5, state: { upTo: 5 } });
      await s.prune('p', epoch, 5);
      const reader = store('new');
      const c = await reader.claim('p');
      expect([c.epoch, c.highestSeq]).to.deep.equal([2, 6]);
      const snap = await reader.latestSnapshot('p');
      expect(snap).to.deep.include({ seq: 5, state: { upTo: 5 } });
      const tail: number[] = [];
      expect(await reader.replay('p', 5, (e) => tail.push(e.seq))).to.equal(6);
      expect(tail).to.deep.equal([6]);
      expect(await failed(s.append('p', epoch, 7, [7])), 'fencing survives the prune').to.be.instanceOf(JournalFencedError);
      // The events the snapshot covers are gone: replaying them from the start finds the gap.
      expect(((await failed(reader.replay('p', 0, () => {}))) as Error).message).to.match(/the journal has a gap: event 1 is missing/);
    });

    it('snapshot + the events after it recover the same state as a full replay, with or without pruning (property, random streams)', async () => {
      let run = 0;
      const s = store();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: -5, max: 5 }) }), { maxLength: 4 }), { maxLength: 25 }),
          fc.integer({ min: 0, max: 6 }),
          fc.boolean(),
          async (batches, snapshotEvery, prune) => {
            const opts = { actor: 'a', pid: `p${run++}`, apply, snapshotEvery, prune };
            // One writing store for every run (a journal per run), a new store to recover each.
            const writer = new Persister<St>(s, opts, (err) => {
              throw err;
            });
            await writer.recover({});
            for (const b of batches) await writer.persist(b);
            const all = batches.flat();
            expect(writer.state).to.deep.equal(fold(all));
            const reader = new Persister<St>(backend.open('a'), opts, (err) => {
              throw err;
            });
            try {
              const r = await reader.recover({});
              expect(r.state).to.deep.equal(fold(all));
              expect(reader.seq).to.equal(all.length);
            } finally {
              await reader.close();
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it('commits the persists of one turn in one write (group commit), each resolving with the state after its own events', async () => {
      const s = store();
      let appends = 0;
      const counting: PersistenceStore = Object.assign(Object.create(s) as PersistenceStore, {
        append: (...a: Parameters<PersistenceStore['append']>) => {
          appends++;
          return s.append(...a);
        },
        claim: (pid: string) => s.claim(pid),
        replay: (...a: Parameters<PersistenceStore['replay']>) => s.replay(...a),
        latestSnapshot: (pid: string) => s.latestSnapshot(pid),
      });
      const p = new Persister<St>(counting, { actor: 'a', pid: 'p', apply, snapshotEvery: 0, prune: false }, () => {});
      await p.recover({});
      const results = await Promise.all([p.persist([{ k: 'a', v: 1 }]), p.persist([{ k: 'a', v: 2 }]), p.persist([{ k: 'b', v: 3 }])]);
      expect(appends).to.equal(1);
      expect(results.map((r) => ({ ...r }))).to.deep.equal([{ a: 1 }, { a: 3 }, { a: 3, b: 3 }]);
      expect(p.seq).to.equal(3);
    });

    it('after a failed write rejects every persist and reports the failure once; the state stays what was durable', async () => {
      const s = store('a');
      const failures: unknown[] = [];
      const p = new Persister<St>(s, { actor: 'a', pid: 'p', apply, snapshotEvery: 0, prune: false }, (err) => failures.push(err));
      await p.recover({});
      await p.persist([{ k: 'a', v: 1 }]);
      await store('b').claim('p'); // someone else takes the journal
      const err = await failed(p.persist([{ k: 'a', v: 5 }]));
      expect(err).to.be.instanceOf(JournalFencedError);
      expect(failures).to.have.length(1);
      expect(p.state).to.deep.equal({ a: 1 });
      expect(await p.persist([{ k: 'a', v: 1 }]).catch((e: unknown) => (e as Error).message)).to.match(/an earlier write failed/);
    });
  });
}

describe('the SQLite journal on its own (real database files)', () => {
  let dir: string;
  let path: string;
  const open: PersistenceStore[] = [];
  const store = (actor = 'a'): SqliteStore => {
    const s = SqliteStore.open({ path, actor }, 'p');
    open.push(s);
    return s;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-journal-'));
    path = join(dir, 'sub', 'j.db');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the file (and its folder) in WAL mode at the current schema version', async () => {
    const s = store();
    await s.claim('p');
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    expect(db.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
    db.close();
  });

  it('refuses, naming the path, a folder that cannot be made (under /proc, past a file) instead of hanging', () => {
    // Node 20's own recursive mkdir never returns for the first of these.
    writeFileSync(join(dir, 'a-file'), '');
    for (const bad of ['/proc/ringmaster-nope/j.db', join(dir, 'a-file', 'sub', 'j.db')]) {
      let err: unknown;
      try {
        SqliteStore.open({ path: bad, actor: 'a' }, 'p');
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(PersistenceError);
      expect((err as Error).message).to.include(`cannot open the database ${bad}`);
    }
  });

  it('names the sequence number of a gap in the journal', async () => {
    const s = store();
    const { epoch } = await s.claim('p');
    await s.append('p', epoch, 1, ['ok', 'soon gone', 'after']);
    const db = new Database(path);
    db.prepare('DELETE FROM rm_journal WHERE seq = 2').run();
    db.close();
    const gap = await s.replay('p', 0, () => {}).catch((e: unknown) => e);
    expect((gap as Error).message).to.include('the journal has a gap: event 2 is missing');
  });

  it('refuses a database from a newer version with a clear error, and migrates an older one', async () => {
    const db = new Database(path.replace('sub/', ''));
    db.pragma('user_version = 99');
    db.close();
    path = path.replace('sub/', '');
    const err = (() => {
      try {
        return store();
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(PersistenceError);
    expect((err as Error).message).to.include(`has schema version 99, newer than this ringmaster's ${SCHEMA_VERSION}`);
    // A version-1 file (before dead letters were kept) is migrated, its journal kept.
    path = join(dir, 'v1.db');
    const v1 = new Database(path);
    v1.exec(`CREATE TABLE rm_journal (pid TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID;
      CREATE TABLE rm_snapshots (pid TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID;
      CREATE TABLE rm_writers (pid TEXT PRIMARY KEY, epoch INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO rm_writers VALUES ('p', 4, 0); INSERT INTO rm_journal VALUES ('p', 1, 0, x'a3616263');`);
    v1.pragma('user_version = 1');
    v1.close();
    const upgraded = store();
    expect(await upgraded.claim('p')).to.deep.equal({ epoch: 5, highestSeq: 1 });
    const events: unknown[] = [];
    await upgraded.replay('p', 0, (e) => events.push(e.event));
    expect(events).to.deep.equal(['abc']);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'rm_dead_letters'").get()).to.deep.equal({ name: 'rm_dead_letters' });
    check.close();
    // A version-0 file (an empty database someone made) gets every table.
    path = join(dir, 'empty.db');
    new Database(path).close();
    const s = store();
    expect((await s.claim('p')).epoch).to.equal(1);
  });
});
