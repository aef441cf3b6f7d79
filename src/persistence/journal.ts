/**
 * Where persistent actors keep their events and snapshots: one interface,
 * backends behind it (SQLite, the embedded default: sqlite.ts). Every call
 * names the persistence id; writes also carry the writer's epoch, so a
 * writer that another one has fenced off writes nothing.
 */

/** One event as stored: its sequence number (1, 2, … per persistence id), when it was written, and the event. */
export interface StoredEvent {
  seq: number;
  at: number;
  event: unknown;
}

/** One snapshot: the state after event `seq`. */
export interface StoredSnapshot {
  seq: number;
  at: number;
  state: unknown;
}

/** What a new writer of a journal starts from. */
export interface Claim {
  /** This writer's epoch: every write must carry it, and one claimed later fences this one off. */
  epoch: number;
  /** The highest sequence number stored (0 for an empty journal). */
  highestSeq: number;
}

export interface Journal {
  /** Become the one writer of `pid`'s journal (fencing off any earlier one). */
  claim(pid: string): Promise<Claim>;
  /**
   * Append `events` as sequence numbers `firstSeq`, `firstSeq + 1`, … in one
   * durable write, all or nothing. Rejects with JournalFencedError when
   * `epoch` is no longer the current one, PersistenceError for anything else.
   */
  append(pid: string, epoch: number, firstSeq: number, events: readonly unknown[]): Promise<void>;
  /** Call `each` for every event after `afterSeq`, in order; resolves with the last sequence number seen (`afterSeq` if none). */
  replay(pid: string, afterSeq: number, each: (e: StoredEvent) => void): Promise<number>;
  /** Let go of the store (its connection, its files). */
  close(): Promise<void>;
}

export interface SnapshotStore {
  /** Store the state after event `seq` (fenced like an append). */
  saveSnapshot(pid: string, epoch: number, seq: number, state: unknown): Promise<void>;
  /** The latest snapshot of `pid`, if any. */
  latestSnapshot(pid: string): Promise<StoredSnapshot | undefined>;
  /** Delete the events up to and including `seq` and every snapshot older than the one at `seq` (the `prune` retention policy). */
  prune(pid: string, epoch: number, seq: number): Promise<void>;
}

/** A backend: both stores, on one connection. */
export type PersistenceStore = Journal & SnapshotStore;
