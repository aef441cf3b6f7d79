import type BetterSqlite3 from 'better-sqlite3';
import { PersistenceError } from '../errors.js';
import { decodeRow, encodeRow, openDatabase } from './sqlite.js';

/** A dead letter as it is kept: what the system's log has, plus its row id and when it was replayed. */
export interface StoredDeadLetter {
  id: number;
  at: number;
  kind: string;
  from: string;
  to: string;
  reason: string;
  dropped?: string;
  payload: unknown;
  /** Set when the stored payload cannot be decoded (then `payload` is null and a replay skips it). */
  undecodable?: string;
  /** When a replay sent it again (epoch ms); absent while it has not been. */
  replayedAt?: number;
}

/** Which stored dead letters to list or replay. */
export interface DeadLetterFilter {
  /** Addressed to this actor. */
  actor?: string;
  /** At or after this time (epoch ms). */
  since?: number;
  /** These row ids only. */
  ids?: readonly number[];
  /** Include the ones replayed already (default: for a list yes, for a replay no). */
  replayed?: boolean;
  /** At most this many, newest first for a list (default 100, at most 10,000). */
  limit?: number;
}

export const MAX_DEAD_LETTER_PAGE = 10_000;
const DEFAULT_PAGE = 100;
/**
 * The main thread writes here: it waits at most this long for an actor's
 * commit, ms, and tries again at its next flush rather than block longer.
 */
const MAIN_BUSY_MS = 20;

interface Row {
  id: number;
  at: number;
  kind: string;
  sender: string;
  receiver: string;
  reason: string;
  dropped: string | null;
  payload: Buffer;
  replayed_at: number | null;
}

/** The `rm_dead_letters` table of a system's database, used from the main thread. */
export class DeadLetterStore {
  readonly #db: BetterSqlite3.Database;
  readonly #system: string;
  readonly #insert: BetterSqlite3.Statement<[string, number, string, string, string, string, string | null, Buffer]>;
  readonly #mark: BetterSqlite3.Statement<[number, number]>;

  private constructor(db: BetterSqlite3.Database, system: string) {
    this.#db = db;
    this.#system = system;
    this.#insert = db.prepare('INSERT INTO rm_dead_letters (system, at, kind, sender, receiver, reason, dropped, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#mark = db.prepare('UPDATE rm_dead_letters SET replayed_at = ? WHERE id = ?');
  }

  static open(path: string, system: string, synchronous?: 'normal' | 'full'): DeadLetterStore {
    return new DeadLetterStore(openDatabase({ path, actor: '$system', ...(synchronous ? { synchronous } : {}) }, 'dead letters', MAIN_BUSY_MS), system);
  }

  /** Store `letters` in one transaction (throws SQLITE_BUSY when an actor's write held the file too long: try again later). */
  add(letters: ReadonlyArray<Omit<StoredDeadLetter, 'id' | 'replayedAt'>>): void {
    this.#db.transaction(() => {
      for (const l of letters) this.#insert.run(this.#system, l.at, l.kind, l.from, l.to, l.reason, l.dropped ?? null, encodeRow(l.payload ?? null));
    })();
  }

  /** Matching dead letters, newest first (`oldestFirst` for a replay, which must take the oldest `limit`). */
  list(f: DeadLetterFilter = {}, defaultReplayed = true, oldestFirst = false): StoredDeadLetter[] {
    const where = ['system = ?'];
    const args: Array<string | number> = [this.#system];
    if (f.actor !== undefined) {
      where.push('receiver = ?');
      args.push(f.actor);
    }
    if (f.since !== undefined) {
      where.push('at >= ?');
      args.push(f.since);
    }
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      where.push(`id IN (${f.ids.map(() => '?').join(', ')})`);
      args.push(...f.ids);
    }
    if (!(f.replayed ?? defaultReplayed)) where.push('replayed_at IS NULL');
    const limit = Math.min(Math.max(1, f.limit ?? DEFAULT_PAGE), MAX_DEAD_LETTER_PAGE);
    const rows = this.#db.prepare(`SELECT * FROM rm_dead_letters WHERE ${where.join(' AND ')} ORDER BY id ${oldestFirst ? 'ASC' : 'DESC'} LIMIT ${limit}`).all(...args) as Row[];
    return rows.map((r) => this.#letter(r));
  }

  get(id: number): StoredDeadLetter | undefined {
    const row = this.#db.prepare('SELECT * FROM rm_dead_letters WHERE system = ? AND id = ?').get(this.#system, id) as Row | undefined;
    return row ? this.#letter(row) : undefined;
  }

  markReplayed(ids: readonly number[], at: number): void {
    this.#db.transaction(() => {
      for (const id of ids) this.#mark.run(at, id);
    })();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #letter(r: Row): StoredDeadLetter {
    let payload: unknown = null;
    let undecodable: string | undefined;
    try {
      payload = decodeRow(r.payload, '$system', 'dead letters', r.id, 'dead letter');
    } catch (err) {
      undecodable = (err as PersistenceError).message;
    }
    return {
      id: r.id,
      at: r.at,
      kind: r.kind,
      from: r.sender,
      to: r.receiver,
      reason: r.reason,
      ...(r.dropped !== null ? { dropped: r.dropped } : {}),
      payload,
      ...(undecodable !== undefined ? { undecodable } : {}),
      ...(r.replayed_at !== null ? { replayedAt: r.replayed_at } : {}),
    };
  }
}
