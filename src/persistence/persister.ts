import { PersistenceError } from '../errors.js';
import type { PersistenceStore } from './journal.js';

/** A persistent actor's own settings (from its definition). */
export interface PersisterOptions<State> {
  actor: string;
  /** The journal's id (default: the actor's id). */
  pid: string;
  /** The next state after one event; runs only for durable events (recovery included). */
  apply: (state: State, event: unknown) => State;
  /** Write a snapshot after this many events since the last (0 = only on `snapshot()`). */
  snapshotEvery: number;
  /** After each snapshot, delete the events and the older snapshots it covers. */
  prune: boolean;
}

interface Pending<State> {
  events: readonly unknown[];
  resolve: (state: State) => void;
  reject: (err: unknown) => void;
}

/**
 * One incarnation's hold on a journal: recovery, then persisting.
 *
 * Group commit: every `persist` made in the same turn of the event loop
 * (a `persistAll`, or persists not awaited one by one) goes into one
 * transaction. The state moves only once the write is durable, event by
 * event through `apply`, and each caller's promise resolves with the state
 * after its own events. A failed write, or an `apply` that throws, is
 * `onFailure`: the actor crashes and its next incarnation recovers from
 * what is durable.
 */
export class Persister<State> {
  readonly #store: PersistenceStore;
  readonly #o: PersisterOptions<State>;
  readonly #onFailure: (err: unknown) => void;
  #state!: State;
  #epoch = 0;
  #seq = 0;
  #sinceSnapshot = 0;
  #queue: Array<Pending<State>> = [];
  #flushing: Promise<void> = Promise.resolve();
  #failed = false;
  /** Flushes queued or running. */
  #inFlight = 0;

  constructor(store: PersistenceStore, o: PersisterOptions<State>, onFailure: (err: unknown) => void) {
    this.#store = store;
    this.#o = o;
    this.#onFailure = onFailure;
  }

  get state(): State {
    return this.#state;
  }

  /** The sequence number of the last durable event. */
  get seq(): number {
    return this.#seq;
  }

  /** Claim the journal, then rebuild the state: the latest snapshot (or `initial`), then every event after it. */
  async recover(initial: State): Promise<{ state: State; fromSnapshot: number; replayed: number }> {
    const { pid } = this.#o;
    const claim = await this.#store.claim(pid);
    this.#epoch = claim.epoch;
    const snap = await this.#store.latestSnapshot(pid);
    let state = snap ? (snap.state as State) : initial;
    const from = snap?.seq ?? 0;
    let replayed = 0;
    const last = await this.#store.replay(pid, from, (e) => {
      try {
        state = this.#o.apply(state, e.event);
      } catch (err) {
        throw new PersistenceError(this.#o.actor, pid, `apply() threw while replaying: ${(err as Error)?.message ?? String(err)}`, e.seq, { cause: err });
      }
      replayed++;
    });
    if (last < claim.highestSeq) throw new PersistenceError(this.#o.actor, pid, `recovery stopped at event ${last} of ${claim.highestSeq}`, last + 1);
    this.#seq = last;
    this.#sinceSnapshot = replayed;
    this.#state = state;
    return { state, fromSnapshot: from, replayed };
  }

  /** Append `events`; resolves with the state after them once they are durable and applied. */
  persist(events: readonly unknown[]): Promise<State> {
    if (this.#failed) return Promise.reject(new PersistenceError(this.#o.actor, this.#o.pid, 'an earlier write failed: this incarnation persists no more', this.#seq + 1));
    return new Promise<State>((resolve, reject) => {
      if (this.#queue.push({ events, resolve, reject }) === 1) {
        // The first of this turn: commit once the turn's other persists have queued behind it.
        this.#inFlight++;
        this.#flushing = this.#flushing
          .then(() => new Promise<void>((r) => queueMicrotask(() => r(this.#flush()))))
          .finally(() => this.#inFlight--);
      }
    });
  }

  /** True while a persist is queued or being written. */
  get busy(): boolean {
    return this.#inFlight > 0;
  }

  /** Resolves once every persist made so far is written (or failed). */
  idle(): Promise<void> {
    return this.#flushing;
  }

  /** Write a snapshot of the state now (after what is queued is durable). */
  async snapshot(): Promise<void> {
    await this.#flushing;
    await this.#snapshotNow();
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0 || this.#failed) return;
    const events = batch.flatMap((p) => p.events);
    try {
      if (events.length > 0) await this.#store.append(this.#o.pid, this.#epoch, this.#seq + 1, events);
    } catch (err) {
      this.#fail(err, batch);
      return;
    }
    this.#seq += events.length;
    let state = this.#state;
    try {
      for (const p of batch) {
        for (const e of p.events) state = this.#o.apply(state, e);
        this.#state = state;
        p.resolve(state);
      }
    } catch (err) {
      this.#fail(err, batch);
      return;
    }
    this.#sinceSnapshot += events.length;
    if (this.#o.snapshotEvery > 0 && this.#sinceSnapshot >= this.#o.snapshotEvery) {
      try {
        await this.#snapshotNow();
      } catch (err) {
        this.#fail(err, []);
      }
    }
  }

  async #snapshotNow(): Promise<void> {
    const { pid } = this.#o;
    await this.#store.saveSnapshot(pid, this.#epoch, this.#seq, this.#state);
    this.#sinceSnapshot = 0;
    if (this.#o.prune) await this.#store.prune(pid, this.#epoch, this.#seq);
  }

  #fail(err: unknown, batch: ReadonlyArray<Pending<State>>): void {
    this.#failed = true;
    for (const p of batch) p.reject(err);
    for (const p of this.#queue) p.reject(err);
    this.#queue = [];
    this.#onFailure(err);
  }

  /** The incarnation is ending by a crash: what is queued and not yet written is dropped (its promises reject). */
  abandon(): void {
    if (this.#failed) return;
    this.#failed = true;
    const err = new PersistenceError(this.#o.actor, this.#o.pid, 'the actor crashed before this event was written', this.#seq + 1);
    for (const p of this.#queue) p.reject(err);
    this.#queue = [];
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}
