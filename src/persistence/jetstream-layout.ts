import { Packr, Unpackr } from 'msgpackr/pack';

/**
 * How the JetStream backend lays journals out (pure: no NATS client here).
 *
 * One stream per system, `RM_<system>`, taking the subjects
 * `rm.<system>.j.>`; one subject per persistence id,
 * `rm.<system>.j.<base64url of the id>`. Every message on a journal's
 * subject carries the journal's tail in its headers, so the last message
 * alone says who writes it (the epoch), how far it goes and where its latest
 * snapshot is:
 *
 * | header | value |
 * |---|---|
 * | `Rm-Kind` | `events` (a batch), `claim` (a new writer's marker) or `snapshot` |
 * | `Rm-Epoch` | the writer's epoch (a claim's is the one before it plus one) |
 * | `Rm-Seq` | the highest event sequence number in the journal with this message |
 * | `Rm-Snapshot` | the stream sequence of the latest snapshot message (0: none; a snapshot message is its own) |
 * | `Rm-Writer` | an id the writer drew when it claimed (tells its own message from another's) |
 *
 * Bodies are msgpack (no shared records: each decodes on its own): a batch
 * `{ firstSeq, at, events }`, a snapshot `{ seq, at, state, from }` (`from`:
 * the stream sequence from which the events after `seq` are found), a claim
 * nothing.
 */

export const HEADER = { kind: 'Rm-Kind', epoch: 'Rm-Epoch', seq: 'Rm-Seq', snapshot: 'Rm-Snapshot', writer: 'Rm-Writer' } as const;

export type MessageKind = 'events' | 'claim' | 'snapshot';

/** A journal's tail as one message's headers tell it. */
export interface Meta {
  kind: MessageKind;
  epoch: number;
  /** The highest event sequence number in the journal with this message. */
  high: number;
  /** Stream sequence of the latest snapshot message (0: none). */
  snap: number;
  /** The writer's id ('' when the message has none). */
  writer: string;
}

export interface EventsBody {
  firstSeq: number;
  at: number;
  events: unknown[];
}

export interface SnapshotBody {
  seq: number;
  at: number;
  state: unknown;
  from: number;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

const SAFE = /^[A-Za-z0-9_-]+$/;

/** The system's name as one subject token and part of a stream name: itself when it is letters, digits, `_` and `-`; otherwise those kept and a hash of the whole name added (so two names never meet). */
export function systemToken(system: string): string {
  if (SAFE.test(system)) return system;
  return `${system.replace(/[^A-Za-z0-9_-]/g, '_')}_${fnv1a(system)}`;
}

/** 32-bit FNV-1a of a string's UTF-16 units, 8 hex digits (a name's fingerprint, not a secret). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The default stream of a system. */
export function streamName(system: string): string {
  return `RM_${systemToken(system)}`;
}

/** The subjects a system's journals are on: `rm.<system>.j.>` (the stream must take them). */
export function journalSubjects(system: string): string {
  return `rm.${systemToken(system)}.j.>`;
}

/** One persistence id's subject: base64url of its UTF-8 is a valid subject token whatever the id holds. */
export function subjectOf(system: string, pid: string): string {
  return `rm.${systemToken(system)}.j.${Buffer.from(pid, 'utf8').toString('base64url')}`;
}

/** Does one of a stream's `subjects` take every subject `pattern` (ending in `>`) stands for? */
export function covers(subjects: readonly string[], pattern: string): boolean {
  const want = pattern.split('.');
  return subjects.some((s) => {
    const have = s.split('.');
    for (let i = 0; i < have.length; i++) {
      if (have[i] === '>') return true;
      if (i >= want.length || want[i] === '>') return false;
      if (have[i] !== '*' && have[i] !== want[i]) return false;
    }
    return false;
  });
}

function whole(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,16}$/.test(v)) return null;
  return Number(v);
}

/** A message's tail headers, or why they are not readable. */
export function readMeta(get: (name: string) => string | undefined): Meta | string {
  const kind = get(HEADER.kind);
  if (kind !== 'events' && kind !== 'claim' && kind !== 'snapshot') return `its ${HEADER.kind} header is ${kind === undefined ? 'missing' : JSON.stringify(kind)}`;
  const epoch = whole(get(HEADER.epoch));
  const high = whole(get(HEADER.seq));
  const snap = whole(get(HEADER.snapshot));
  if (epoch === null || high === null || snap === null) return `its ${HEADER.epoch}, ${HEADER.seq} or ${HEADER.snapshot} header is not a whole number`;
  return { kind, epoch, high, snap, writer: get(HEADER.writer) ?? '' };
}

/** The headers of a message carrying `m`. */
export function metaHeaders(m: Meta): Array<[string, string]> {
  return [
    [HEADER.kind, m.kind],
    [HEADER.epoch, String(m.epoch)],
    [HEADER.seq, String(m.high)],
    [HEADER.snapshot, String(m.snap)],
    [HEADER.writer, m.writer],
  ];
}

export function encodeBody(v: EventsBody | SnapshotBody): Buffer {
  return packr.pack(v);
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A batch's body, or why it is not one. */
export function decodeEvents(data: Uint8Array): EventsBody | string {
  let v: unknown;
  try {
    v = unpackr.unpack(data);
  } catch (err) {
    return (err as Error).message;
  }
  const b = v as Partial<EventsBody> | null;
  if (typeof b !== 'object' || b === null || !isWhole(b.firstSeq) || b.firstSeq < 1 || !isWhole(b.at) || !Array.isArray(b.events)) return 'it is not a batch of events';
  return b as EventsBody;
}

/** A snapshot's body, or why it is not one. */
export function decodeSnapshot(data: Uint8Array): SnapshotBody | string {
  let v: unknown;
  try {
    v = unpackr.unpack(data);
  } catch (err) {
    return (err as Error).message;
  }
  const b = v as Partial<SnapshotBody> | null;
  if (typeof b !== 'object' || b === null || !isWhole(b.seq) || !isWhole(b.at) || !isWhole(b.from) || !('state' in b)) return 'it is not a snapshot';
  return b as SnapshotBody;
}
