import { JournalFencedError, PersistenceError } from '../errors.js';
import { acquire, type JetStreamConfig, type Link } from './jetstream-connection.js';
import { getter, replayRange } from './jetstream-replay.js';
import { decodeSnapshot, encodeBody, journalSubjects, metaHeaders, readMeta, streamName, subjectOf, type Meta } from './jetstream-layout.js';
import type { Claim, PersistenceStore, StoredEvent, StoredSnapshot } from './journal.js';

/**
 * The cluster backend: journals in a NATS JetStream stream, so an actor
 * started on another node (or after its node is gone) recovers there.
 * Layout and message format: jetstream-layout.ts.
 *
 * Fencing is the server's: every write is published with the stream
 * sequence this writer last saw on its journal's subject as the expected
 * last one (`Nats-Expected-Last-Subject-Sequence`). A claim is such a write
 * too (a marker raising the epoch), so once another writer has claimed, the
 * earlier one's next append, snapshot or claim is refused by the server and
 * becomes a JournalFencedError. Snapshots are on the journal's own subject,
 * fenced the same way, and every message names the latest one, so
 * `latestSnapshot` reads two messages at most.
 */

export interface JetStreamStoreOptions {
  /** The system's name: its stream and subjects are named after it. */
  system: string;
  /** Names the actor in errors. */
  actor: string;
  config: JetStreamConfig;
}

/** What this writer knows of a journal's tail (it alone writes it while its epoch holds). */
interface Tail {
  epoch: number;
  /** This writer's id, in every message it writes. */
  writer: string;
  /** Stream sequence of the journal's last message. */
  last: number;
  high: number;
  snap: number;
  /** Event sequence number → a stream sequence after which every later event is (the last few batches). */
  after: Map<number, number>;
  /** The latest snapshot this writer wrote: its event sequence number and where the events after it start. */
  written?: { seq: number; from: number };
}

interface Last {
  seq: number;
  meta: Meta;
  data: Uint8Array;
  subject: string;
}

const EMPTY = new Uint8Array(0);
/** Batches remembered per journal for a snapshot's `from`. */
const AFTER_KEPT = 64;
/** Claims tried in a row while other claimers keep winning the race. */
const CLAIM_ATTEMPTS = 5;
/** Tries of a write that got no answer, and the pause before the next, ms (times the try). */
const PUBLISH_ATTEMPTS = 3;
const RETRY_MS = 200;
/** The server's code for a publish whose expected last subject sequence was not the last one. */
const WRONG_LAST_SEQUENCE = 10071;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const wrongLast = (err: unknown): boolean => (err as { code?: unknown }).code === WRONG_LAST_SEQUENCE;
/** A request that got no answer: it may or may not have been carried out. */
const unanswered = (err: unknown): boolean => ['TimeoutError', 'JetStreamNotEnabled', 'NoResponders'].includes((err as Error).name);
/** Is `now` (a journal's last message) the message `sent` describes? With one writer per epoch, then it is that writer's. */
const sameTail = (now: Meta, sent: Meta): boolean => now.writer === sent.writer && now.kind === sent.kind && now.epoch === sent.epoch && now.high === sent.high;

export class JetStreamStore implements PersistenceStore {
  readonly #o: JetStreamStoreOptions;
  readonly #stream: string;
  readonly #ready: Promise<{ link: Link; limit: number }>;
  readonly #release: () => Promise<void>;
  readonly #tails = new Map<string, Tail>();
  /** From `latestSnapshot`: where `replay` after that snapshot starts. */
  readonly #from = new Map<string, { seq: number; from: number }>();
  readonly #queues = new Map<string, Promise<unknown>>();

  private constructor(o: JetStreamStoreOptions) {
    this.#o = o;
    this.#stream = o.config.stream ?? streamName(o.system);
    const { link, release } = acquire(o.config, `ringmaster ${o.system}`);
    this.#release = release;
    this.#ready = link.then(async (l) => {
      const info = await l.stream(this.#stream, journalSubjects(o.system), o.config.replicas);
      const max = info.config.max_msg_size;
      return { link: l, limit: max !== undefined && max > 0 ? Math.min(max, l.maxPayload) : l.maxPayload };
    });
    this.#ready.catch(() => {}); // surfaces at the first call
  }

  /** Start connecting (shared with the thread's other journals on the same servers); a failure surfaces at the first call. */
  static open(o: JetStreamStoreOptions): JetStreamStore {
    return new JetStreamStore(o);
  }

  /** The stream this store writes to. */
  get stream(): string {
    return this.#stream;
  }

  /** Run `fn` once the connection and stream are ready; any error that is not ours yet becomes a PersistenceError naming `what`. */
  async #run<T>(pid: string, what: string, seq: number | undefined, fn: (l: Link, limit: number) => Promise<T>): Promise<T> {
    let ready: { link: Link; limit: number };
    try {
      ready = await this.#ready;
    } catch (err) {
      throw new PersistenceError(this.#o.actor, pid, messageOf(err), undefined, { cause: err });
    }
    try {
      return await fn(ready.link, ready.limit);
    } catch (err) {
      if (err instanceof JournalFencedError || err instanceof PersistenceError) throw err;
      throw new PersistenceError(this.#o.actor, pid, `${what} failed: ${messageOf(err)}`, seq, { cause: err });
    }
  }

  /** One journal's writes go one after another: each expects the last message the one before it wrote. */
  #serial<T>(pid: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.#queues.get(pid) ?? Promise.resolve()).then(fn, fn);
    const settled = next.catch(() => {});
    this.#queues.set(pid, settled);
    void settled.then(() => {
      if (this.#queues.get(pid) === settled) this.#queues.delete(pid);
    });
    return next;
  }

  #error(pid: string, detail: string, seq?: number, cause?: unknown): PersistenceError {
    return new PersistenceError(this.#o.actor, pid, detail, seq, cause === undefined ? undefined : { cause });
  }

  /** The journal's last message, its tail headers read (a snapshot names itself as the latest), or null for an empty journal. */
  async #last(l: Link, pid: string): Promise<Last | null> {
    const m = await l.jsm.streams.getMessage(this.#stream, { last_by_subj: subjectOf(this.#o.system, pid) });
    if (!m) return null;
    const meta = readMeta(getter(m.header));
    if (typeof meta === 'string') throw this.#error(pid, `the message at stream sequence ${m.seq} of stream ${this.#stream} is not a journal message: ${meta}`);
    if (meta.kind === 'snapshot') meta.snap = m.seq;
    return { seq: m.seq, meta, data: m.data, subject: m.subject };
  }

  /** This writer's tail, checked against `epoch` (read from the server when this store has not written the journal yet). */
  async #tail(l: Link, pid: string, epoch: number): Promise<Tail> {
    let tail = this.#tails.get(pid);
    if (!tail) {
      const last = await this.#last(l, pid);
      const m = last?.meta ?? { epoch: 0, high: 0, snap: 0 };
      tail = { epoch: m.epoch, writer: crypto.randomUUID(), last: last?.seq ?? 0, high: m.high, snap: m.snap, after: new Map([[m.high, last?.seq ?? 0]]) };
      if (tail.epoch === epoch) this.#tails.set(pid, tail);
    }
    if (tail.epoch > epoch) throw new JournalFencedError(this.#o.actor, pid, epoch, tail.epoch);
    if (tail.epoch !== epoch) throw this.#error(pid, `epoch ${epoch} was never claimed (the journal is at epoch ${tail.epoch})`);
    return tail;
  }

  /**
   * Publish one message of `tail`'s journal, fenced: the server takes it only if the journal's last message
   * is still `tail.last`. A publish whose answer did not come (a timeout, the server restarting) is tried
   * again as it was: if the first one was written after all, the second is refused for that very reason,
   * and the journal's last message is then the one this writer sent: that is its acknowledgement.
   */
  async #publish(l: Link, limit: number, pid: string, tail: Tail, body: Uint8Array, meta: Meta, what: string, seq: number | undefined): Promise<number> {
    const h = l.headers();
    for (const [k, v] of metaHeaders(meta)) h.set(k, v);
    // The headers as they go on the wire, the expected-sequence one included (nats.js counts them in max_payload).
    const size = body.length + 64 + metaHeaders(meta).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
    const tooBig = (): PersistenceError =>
      this.#error(pid, `${what} is ${size} bytes, more than the ${limit} bytes the server takes in one message (its max_payload, or the stream's max_msg_size): persist less at a time`, seq);
    if (size > limit) throw tooBig();
    const subject = subjectOf(this.#o.system, pid);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await l.js.publish(subject, body, { headers: h, expect: { lastSubjectSequence: tail.last } })).seq;
      } catch (err) {
        if (/max_payload/.test(messageOf(err))) throw tooBig();
        if (!wrongLast(err)) {
          if (!unanswered(err)) throw err;
          if (attempt >= PUBLISH_ATTEMPTS) {
            const why = (err as Error).name === 'TimeoutError' ? `no answer came in ${this.#o.config.timeoutMs} ms` : `nothing takes messages on ${subject}`;
            throw this.#error(pid, `${what} got no answer ${PUBLISH_ATTEMPTS} times (${why}: is JetStream up, and the stream ${this.#stream} still there?)`, seq, err);
          }
          await new Promise((r) => setTimeout(r, RETRY_MS * attempt));
          continue;
        }
        const now = await this.#last(l, pid).catch(() => null);
        if (attempt > 1 && now && now.seq > tail.last && sameTail(now.meta, meta)) return now.seq;
        this.#tails.delete(pid);
        if (now && now.meta.epoch > tail.epoch) throw new JournalFencedError(this.#o.actor, pid, tail.epoch, now.meta.epoch, { cause: err });
        throw this.#error(pid, `${what} was refused: the journal changed under this writer (it expected its last message at stream sequence ${tail.last}, and it is at ${now?.seq ?? 'none'}; two writers with one epoch?)`, seq, err);
      }
    }
  }

  claim(pid: string): Promise<Claim> {
    return this.#serial(pid, () =>
      this.#run(pid, 'claiming the journal', undefined, async (l, limit) => {
        for (let attempt = 1; ; attempt++) {
          const last = await this.#last(l, pid);
          const prev = last?.meta ?? { epoch: 0, high: 0, snap: 0 };
          const meta: Meta = { kind: 'claim', epoch: prev.epoch + 1, high: prev.high, snap: prev.snap, writer: crypto.randomUUID() };
          // The claimer's "tail" is the last message it read: the claim lands only if nobody wrote after it.
          const seen: Tail = { epoch: meta.epoch, writer: meta.writer, last: last?.seq ?? 0, high: meta.high, snap: meta.snap, after: new Map() };
          try {
            const at = await this.#publish(l, limit, pid, seen, EMPTY, meta, 'the claim', undefined);
            this.#tails.set(pid, { ...seen, last: at, after: new Map([[meta.high, at]]) });
            return { epoch: meta.epoch, highestSeq: meta.high };
          } catch (err) {
            // Another claimer got in between the read and the write: read again and claim after it.
            const raced = err instanceof JournalFencedError || (err instanceof PersistenceError && wrongLast(err.cause));
            if (!raced) throw err;
            if (attempt >= CLAIM_ATTEMPTS) throw this.#error(pid, `claiming the journal failed: other writers claimed it first ${CLAIM_ATTEMPTS} times in a row`, undefined, err);
            await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * attempt));
          }
        }
      }),
    );
  }

  append(pid: string, epoch: number, firstSeq: number, events: readonly unknown[]): Promise<void> {
    return this.#serial(pid, () =>
      this.#run(pid, 'appending', firstSeq, async (l, limit) => {
        const tail = await this.#tail(l, pid, epoch);
        if (firstSeq <= tail.high) throw this.#error(pid, 'appending failed: that sequence number is in the journal already (two writers?)', firstSeq);
        if (firstSeq > tail.high + 1) throw this.#error(pid, `appending failed: the journal ends at event ${tail.high}, so this would leave a gap`, firstSeq);
        if (events.length === 0) return;
        let body: Buffer;
        try {
          body = encodeBody({ firstSeq, at: Date.now(), events: events as unknown[] });
        } catch (err) {
          throw this.#error(pid, `the event cannot be stored: ${messageOf(err)}`, firstSeq, err);
        }
        const high = firstSeq + events.length - 1;
        const at = await this.#publish(l, limit, pid, tail, body, { kind: 'events', epoch, high, snap: tail.snap, writer: tail.writer }, `the batch of ${events.length} event(s)`, firstSeq);
        tail.last = at;
        tail.high = high;
        tail.after.set(high, at);
        if (tail.after.size > AFTER_KEPT) tail.after.delete(tail.after.keys().next().value!);
      }),
    );
  }

  replay(pid: string, afterSeq: number, each: (e: StoredEvent) => void): Promise<number> {
    return this.#run(pid, 'replaying', undefined, async (l) => {
      const last = await this.#last(l, pid);
      if (!last) return afterSeq;
      // Start after what the snapshot covers when it is known where that is; from the journal's first message otherwise.
      const hint = this.#from.get(pid);
      const start = hint && hint.seq <= afterSeq ? hint.from : 1;
      if (start > last.seq) return afterSeq;
      const range = { stream: this.#stream, subject: subjectOf(this.#o.system, pid), start, end: last.seq, afterSeq, timeoutMs: this.#o.config.timeoutMs };
      return replayRange(l, { ...range, error: (detail, seq) => this.#error(pid, detail, seq) }, each);
    });
  }

  saveSnapshot(pid: string, epoch: number, seq: number, state: unknown): Promise<void> {
    return this.#serial(pid, () =>
      this.#run(pid, 'saving a snapshot', seq, async (l, limit) => {
        const tail = await this.#tail(l, pid, epoch);
        if (seq > tail.high) throw this.#error(pid, `saving a snapshot failed: the journal ends at event ${tail.high}`, seq);
        // Where the events after `seq` start: after the batch that ended at it (from the journal's start when unknown).
        const from = (tail.after.get(seq) ?? 0) + 1;
        let body: Buffer;
        try {
          body = encodeBody({ seq, at: Date.now(), state, from });
        } catch (err) {
          throw this.#error(pid, `the state cannot be stored: ${messageOf(err)}`, seq, err);
        }
        const at = await this.#publish(l, limit, pid, tail, body, { kind: 'snapshot', epoch, high: tail.high, snap: 0, writer: tail.writer }, 'the snapshot', seq);
        tail.last = at;
        tail.snap = at;
        tail.written = { seq, from };
      }),
    );
  }

  latestSnapshot(pid: string): Promise<StoredSnapshot | undefined> {
    return this.#run(pid, 'reading the latest snapshot', undefined, async (l) => {
      const last = await this.#last(l, pid);
      if (!last || last.meta.snap === 0) return undefined;
      const m = last.meta.kind === 'snapshot' ? last : await l.jsm.streams.getMessage(this.#stream, { seq: last.meta.snap });
      if (!m || m.subject !== last.subject) throw this.#error(pid, `the latest snapshot, the message at stream sequence ${last.meta.snap} of stream ${this.#stream}, is missing (removed outside ringmaster?)`);
      const b = decodeSnapshot(m.data);
      if (typeof b === 'string') throw this.#error(pid, `the stored snapshot is corrupt and cannot be decoded (the message at stream sequence ${m.seq} of stream ${this.#stream}: ${b})`);
      this.#from.set(pid, { seq: b.seq, from: b.from });
      return { seq: b.seq, at: b.at, state: b.state };
    });
  }

  prune(pid: string, epoch: number, seq: number): Promise<void> {
    return this.#serial(pid, () =>
      this.#run(pid, 'pruning', seq, async (l) => {
        // Fenced by a read: a writer fenced off since purges nothing. (Even a late purge is safe: it only ever
        // removes what comes before a snapshot, and the latest snapshot and the journal's last message stay.)
        const last = await this.#last(l, pid);
        if (!last) return;
        if (last.meta.epoch > epoch) throw new JournalFencedError(this.#o.actor, pid, epoch, last.meta.epoch);
        let snap = this.#tails.get(pid)?.written;
        if (snap?.seq !== seq) {
          await this.latestSnapshot(pid);
          snap = this.#from.get(pid);
        }
        // Nothing to prune without a snapshot at or before `seq` (a newer one's events after `seq` must stay).
        if (!snap || snap.seq > seq || snap.from <= 1) return;
        await l.jsm.streams.purge(this.#stream, { filter: subjectOf(this.#o.system, pid), seq: snap.from });
      }),
    );
  }

  close(): Promise<void> {
    return this.#release();
  }
}
