import type { MsgHdrs } from '@nats-io/transport-node';
import type { Link } from './jetstream-connection.js';
import { decodeEvents, readMeta } from './jetstream-layout.js';
import type { StoredEvent } from './journal.js';

/** Messages asked for at once while replaying. */
const REPLAY_BATCH = 256;

/** A header getter that gives undefined for a header that is missing (nats.js gives ''). */
export const getter =
  (h: MsgHdrs | undefined) =>
  (name: string): string | undefined =>
    h?.get(name) || undefined;

export interface ReplayRange {
  stream: string;
  subject: string;
  /** The stream sequence to start at, and the journal's last one (where the replay ends). */
  start: number;
  end: number;
  afterSeq: number;
  /** How long one fetch waits for messages, ms. */
  timeoutMs: number;
  /** The store's error for this journal (a PersistenceError naming the actor and the persistence id). */
  error: (detail: string, seq?: number) => Error;
}

/**
 * Every event of one journal's subject after `r.afterSeq` to `each`, in
 * order, through an ordered consumer from stream sequence `r.start` to
 * `r.end` (deleted after); claims and snapshots are passed over. Resolves
 * with the last event sequence number seen.
 */
export async function replayRange(l: Link, r: ReplayRange, each: (e: StoredEvent) => void): Promise<number> {
  const timeout = Math.max(1000, r.timeoutMs);
  const consumer = await l.js.consumers.get(r.stream, { filter_subjects: r.subject, opt_start_seq: r.start, inactive_threshold: 30_000 });
  let seen = r.afterSeq;
  try {
    for (let done = false; !done; ) {
      const batch = await consumer.fetch({ max_messages: REPLAY_BATCH, expires: timeout });
      let got = 0;
      try {
        for await (const m of batch) {
          got++;
          seen = replayOne(r, m.seq, getter(m.headers), m.data, seen, each);
          if (m.seq >= r.end) {
            done = true;
            break;
          }
        }
      } finally {
        batch.stop();
      }
      if (!done && got === 0) throw r.error(`replaying stalled: no message of the journal arrived in ${timeout} ms (stream ${r.stream}, after event ${seen})`);
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  return seen;
}

/** One message of a replay: a batch's events after `seen` go to `each`. The last event seen after it. */
function replayOne(r: ReplayRange, streamSeq: number, get: (name: string) => string | undefined, data: Uint8Array, seen: number, each: (e: StoredEvent) => void): number {
  const corrupt = (why: string): Error => r.error(`the stored event is corrupt and cannot be decoded (the message at stream sequence ${streamSeq} of stream ${r.stream}: ${why})`, seen + 1);
  const meta = readMeta(get);
  if (typeof meta === 'string') throw corrupt(meta);
  if (meta.kind !== 'events') return seen;
  const b = decodeEvents(data);
  if (typeof b === 'string') throw corrupt(b);
  const lastSeq = b.firstSeq + b.events.length - 1;
  if (lastSeq <= seen) return seen;
  if (b.firstSeq > seen + 1) throw r.error(`the journal has a gap: event ${seen + 1} is missing`, b.firstSeq);
  for (let i = seen + 1 - b.firstSeq; i < b.events.length; i++) each({ seq: b.firstSeq + i, at: b.at, event: b.events[i] });
  return lastSeq;
}
