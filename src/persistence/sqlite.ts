import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Packr, Unpackr } from 'msgpackr/pack';
import { JournalFencedError, PersistenceError } from '../errors.js';
import type { Claim, PersistenceStore, StoredEvent, StoredSnapshot } from './journal.js';
import { WriteLock } from './write-lock.js';

/**
 * The embedded backend: one SQLite database file per system, in WAL mode,
 * opened by each persistent actor's own thread (no hop to a storage thread:
 * an append is one local transaction). WAL lets every thread's connection
 * read while one writes; SQLite orders the writers (busy timeout below).
 *
 * `synchronous: 'normal'` (the default) makes a commit durable against the
 * process dying (SIGKILL, a crash) without an fsync per commit; `'full'`
 * fsyncs every commit, durable against the machine losing power too.
 */

/** The newest schema this code knows; `PRAGMA user_version` holds a database's. */
export const SCHEMA_VERSION = 2;

/** Each step takes a database from version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rm_journal (pid TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID;
   CREATE TABLE rm_snapshots (pid TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID;
   CREATE TABLE rm_writers (pid TEXT PRIMARY KEY, epoch INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;`,
  `CREATE TABLE rm_dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, system TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL,
     sender TEXT NOT NULL, receiver TEXT NOT NULL, reason TEXT NOT NULL, dropped TEXT, payload BLOB NOT NULL, replayed_at INTEGER);
   CREATE INDEX rm_dead_letters_by_receiver ON rm_dead_letters (system, receiver, at);
   CREATE INDEX rm_dead_letters_by_time ON rm_dead_letters (system, at);`,
];

/** How long a writer waits for another connection's write to finish, ms. */
const BUSY_TIMEOUT_MS = 10_000;

export interface SqliteOptions {
  /** The database file (its folder is made when missing). */
  path: string;
  synchronous?: 'normal' | 'full';
  /** Names the actor in errors. */
  actor: string;
  /** The process's write lock for this database (see write-lock.ts); none on the main thread, which must not block. */
  lock?: SharedArrayBuffer | null;
}

// No shared records: a row decodes on its own, whatever was written before it. Plain data: objects, arrays,
// strings, numbers, booleans, null, Dates and byte arrays (a Map comes back as an object).
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

let driver: typeof BetterSqlite3 | null = null;

function loadDriver(actor: string, pid: string): typeof BetterSqlite3 {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw new PersistenceError(
      actor,
      pid,
      'persistence needs the better-sqlite3 package, 12.x: `npm install better-sqlite3@12`, and let it build (`npm install-scripts approve better-sqlite3`, then `npm rebuild better-sqlite3`)',
      undefined,
      { cause: err },
    );
  }
  return driver;
}

/** Bring the schema to SCHEMA_VERSION, one migration at a time, each in a transaction (another thread may be doing the same). */
function migrate(db: BetterSqlite3.Database, actor: string, pid: string, path: string): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() === SCHEMA_VERSION) return;
  db.transaction(() => {
    const v = version();
    if (v > SCHEMA_VERSION) {
      throw new PersistenceError(actor, pid, `the database ${path} has schema version ${v}, newer than this ringmaster's ${SCHEMA_VERSION}: run a newer ringmaster, or point persistence.path at another file`);
    }
    for (let i = v; i < SCHEMA_VERSION; i++) db.exec(MIGRATIONS[i]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * `mkdir -p`, bounded. Node 20's own recursive mkdir never returns when a
 * folder on the way exists but cannot hold children (a path under /proc, a
 * dangling symlink): it steps back on ENOENT and forward on EEXIST forever.
 * Here the missing folders are found first, then made one at a time; any
 * refusal is thrown as it is.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * A connection to the database at `o.path` (its folder made, WAL mode, the
 * schema brought up to date), waiting at most `busyMs` for another
 * connection's write. Errors are PersistenceErrors naming `o.actor` and `pid`.
 */
export function openDatabase(o: SqliteOptions, pid: string, busyMs: number): BetterSqlite3.Database {
  const Database = loadDriver(o.actor, pid);
  let db: BetterSqlite3.Database | null = null;
  try {
    makeFolders(dirname(o.path));
    db = new Database(o.path, { timeout: busyMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${o.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db, o.actor, pid, o.path);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof PersistenceError) throw err;
    throw new PersistenceError(o.actor, pid, `cannot open the database ${o.path}: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Encode a value as rows store it (msgpack, no shared records). */
export function encodeRow(v: unknown): Buffer {
  return packr.pack(v);
}

export class SqliteStore implements PersistenceStore {
  readonly #db: BetterSqlite3.Database;
  readonly #actor: string;
  readonly #lock: WriteLock | null;
  readonly #stmt: {
    epoch: BetterSqlite3.Statement<[string], { epoch: number }>;
    claim: BetterSqlite3.Statement<[string, number]>;
    highest: BetterSqlite3.Statement<[string], { seq: number | null }>;
    insert: BetterSqlite3.Statement<[string, number, number, Buffer]>;
    insertFenced: BetterSqlite3.Statement<[string, number, number, Buffer, string, number]>;
    replay: BetterSqlite3.Statement<[string, number], { seq: number; at: number; event: Buffer }>;
    snapshot: BetterSqlite3.Statement<[string, number, number, Buffer]>;
    latest: BetterSqlite3.Statement<[string], { seq: number; at: number; state: Buffer }>;
    pruneEvents: BetterSqlite3.Statement<[string, number]>;
    pruneSnapshots: BetterSqlite3.Statement<[string, number]>;
  };

  private constructor(db: BetterSqlite3.Database, actor: string, lock: WriteLock | null) {
    this.#db = db;
    this.#actor = actor;
    this.#lock = lock;
    this.#stmt = {
      epoch: db.prepare('SELECT epoch FROM rm_writers WHERE pid = ?'),
      claim: db.prepare('INSERT INTO rm_writers (pid, epoch, at) VALUES (?, 1, ?) ON CONFLICT (pid) DO UPDATE SET epoch = epoch + 1, at = excluded.at'),
      highest: db.prepare('SELECT MAX(seq) AS seq FROM rm_journal WHERE pid = ?'),
      insert: db.prepare('INSERT INTO rm_journal (pid, seq, at, event) VALUES (?, ?, ?, ?)'),
      // One statement, atomic on its own: the row goes in only while the writer's epoch is the current one.
      insertFenced: db.prepare('INSERT INTO rm_journal (pid, seq, at, event) SELECT ?, ?, ?, ? WHERE (SELECT epoch FROM rm_writers WHERE pid = ?) = ?'),
      replay: db.prepare('SELECT seq, at, event FROM rm_journal WHERE pid = ? AND seq > ? ORDER BY seq'),
      snapshot: db.prepare('INSERT OR REPLACE INTO rm_snapshots (pid, seq, at, state) VALUES (?, ?, ?, ?)'),
      latest: db.prepare('SELECT seq, at, state FROM rm_snapshots WHERE pid = ? ORDER BY seq DESC LIMIT 1'),
      pruneEvents: db.prepare('DELETE FROM rm_journal WHERE pid = ? AND seq <= ?'),
      pruneSnapshots: db.prepare('DELETE FROM rm_snapshots WHERE pid = ? AND seq < ?'),
    };
  }

  /** Open (and create or migrate) the database at `o.path`. `pid` names the journal in errors. */
  static open(o: SqliteOptions, pid: string): SqliteStore {
    return new SqliteStore(openDatabase(o, pid, BUSY_TIMEOUT_MS), o.actor, o.lock ? new WriteLock(o.lock) : null);
  }

  #locked<T>(fn: () => T): T {
    return this.#lock ? this.#lock.run(fn) : fn();
  }

  #fence(pid: string, epoch: number): void {
    const current = this.#stmt.epoch.get(pid)?.epoch ?? 0;
    if (current !== epoch) throw new JournalFencedError(this.#actor, pid, epoch, current);
  }

  #wrap<T>(pid: string, what: string, seq: number | undefined, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof JournalFencedError || err instanceof PersistenceError) return Promise.reject(err);
      const code = (err as { code?: string }).code;
      const why = code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ? 'that sequence number is in the journal already (two writers?)' : (err as Error).message;
      return Promise.reject(new PersistenceError(this.#actor, pid, `${what} failed: ${why}`, seq, { cause: err }));
    }
  }

  claim(pid: string): Promise<Claim> {
    return this.#wrap(pid, 'claiming the journal', undefined, () =>
      this.#locked(() =>
        this.#db
          .transaction((): Claim => {
            this.#stmt.claim.run(pid, Date.now());
            return { epoch: this.#stmt.epoch.get(pid)!.epoch, highestSeq: this.#stmt.highest.get(pid)?.seq ?? 0 };
          })
          .immediate(),
      ),
    );
  }

  append(pid: string, epoch: number, firstSeq: number, events: readonly unknown[]): Promise<void> {
    return this.#wrap(pid, 'appending', firstSeq, () => {
      const rows = events.map((e, i) => {
        try {
          return packr.pack(e);
        } catch (err) {
          throw new PersistenceError(this.#actor, pid, `the event cannot be stored: ${(err as Error).message}`, firstSeq + i, { cause: err });
        }
      });
      const at = Date.now();
      this.#locked(() => {
        if (rows.length === 1) {
          // The common case, one event: one statement, no explicit transaction.
          if (this.#stmt.insertFenced.run(pid, firstSeq, at, rows[0]!, pid, epoch).changes === 0) this.#fence(pid, epoch);
          return;
        }
        this.#db
          .transaction(() => {
            this.#fence(pid, epoch);
            for (let i = 0; i < rows.length; i++) this.#stmt.insert.run(pid, firstSeq + i, at, rows[i]!);
          })
          .immediate();
      });
    });
  }

  replay(pid: string, afterSeq: number, each: (e: StoredEvent) => void): Promise<number> {
    return this.#wrap(pid, 'replaying', undefined, () => {
      let last = afterSeq;
      for (const row of this.#stmt.replay.iterate(pid, afterSeq)) {
        if (row.seq !== last + 1) throw new PersistenceError(this.#actor, pid, `the journal has a gap: event ${last + 1} is missing`, row.seq);
        each({ seq: row.seq, at: row.at, event: decodeRow(row.event, this.#actor, pid, row.seq, 'event') });
        last = row.seq;
      }
      return last;
    });
  }

  saveSnapshot(pid: string, epoch: number, seq: number, state: unknown): Promise<void> {
    return this.#wrap(pid, 'saving a snapshot', seq, () => {
      const blob = packr.pack(state);
      this.#locked(() =>
        this.#db
          .transaction(() => {
            this.#fence(pid, epoch);
            this.#stmt.snapshot.run(pid, seq, Date.now(), blob);
          })
          .immediate(),
      );
    });
  }

  latestSnapshot(pid: string): Promise<StoredSnapshot | undefined> {
    return this.#wrap(pid, 'reading the latest snapshot', undefined, () => {
      const row = this.#stmt.latest.get(pid);
      return row ? { seq: row.seq, at: row.at, state: decodeRow(row.state, this.#actor, pid, row.seq, 'snapshot') } : undefined;
    });
  }

  prune(pid: string, epoch: number, seq: number): Promise<void> {
    return this.#wrap(pid, 'pruning', seq, () => {
      this.#locked(() =>
        this.#db
          .transaction(() => {
            this.#fence(pid, epoch);
            this.#stmt.pruneEvents.run(pid, seq);
            this.#stmt.pruneSnapshots.run(pid, seq);
          })
          .immediate(),
      );
    });
  }

  close(): Promise<void> {
    if (this.#db.open) this.#db.close();
    return Promise.resolve();
  }
}

/** Decode a stored value; a corrupt one is a PersistenceError naming `what` and `seq`. */
export function decodeRow(blob: Buffer, actor: string, pid: string, seq: number, what: string): unknown {
  try {
    return unpackr.unpack(blob);
  } catch (err) {
    throw new PersistenceError(actor, pid, `the stored ${what} is corrupt and cannot be decoded (${(err as Error).message})`, seq, { cause: err });
  }
}
