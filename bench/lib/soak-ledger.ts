/**
 * The soak's books: every message the run sends (by its id), every delivery
 * the actors report, every dead letter, every ask and how it settled. At the
 * end `close()` turns them into the account: each message delivered exactly
 * once or dead-lettered with a reason, duplicates and losses by id.
 */
import { Unpackr } from 'msgpackr';
import type { DeadLetter } from '../../src/index.js';
import type { FaultKind, SoakAck, SoakOutcome, SoakReply } from '../../test/fixtures/soak/soak-actor.js';

export type FaultTag = FaultKind | 'undecodable';

/** A message with one addressee (tell, ask, relay's inner send, peer ask's inner ask). */
export interface DirectExpect {
  id: number;
  kind: string;
  to: string;
  /** The addressee is a dynamic child (which may end for good at any time). */
  dyn: boolean;
  fault?: FaultTag;
  /** Sent by an actor on the main thread's behalf: expected only once that outer message was handled. */
  outer?: number;
  /** The outer message's id → the inner id it carries (relay, peer-ask, publish, request). */
  inner?: number;
  sentAt: number;
}

/** A message to every subscriber of a subject (publish, request). */
export interface FanoutExpect {
  id: number;
  kind: string;
  subject: string;
  /** Receivers known when it was sent (main-thread publishes), else null. */
  receivers: string[] | null;
  /** How many it reached, as the publisher reported (actor publishes: from the outer message's report). */
  reached: number | null;
  /** Requests are answered by the first responder; every receiver still gets the message once. */
  request: boolean;
  outer?: number;
  sentAt: number;
}

export interface AskRecord {
  id: number;
  kind: string;
  /** Actor asked, or the subject of a request. */
  target: string;
  timeout: number;
  fault?: FaultTag;
  sentAt: number;
  settledAt?: number;
  /** 'resolved', or the error's code (or 'not-coded: <name>' for an error that is not a RingmasterError). */
  outcome?: string;
  answer?: SoakReply;
  /** Settled only by system.stop() (the run gave up waiting for it). */
  byStop?: boolean;
  /** A config ask after a reload: the rev the answer must carry. */
  expectRev?: number;
}

/** An ask or request an actor made on the main thread's behalf; its outcome is reported after the handler. */
export interface ActorAsk {
  id: number;
  kind: 'peer-ask' | 'actor-request';
  via: string;
  to: string;
  timeout: number;
  outer: number;
  outcome?: SoakOutcome;
}

export interface Delivery {
  by: string;
  inc: number;
  topic: string | undefined;
  redelivered: boolean;
  at: number;
}

export interface LetterRecord {
  to: string;
  from: string;
  kind: string;
  reason: string;
  cls: ReasonClass;
  at: number;
}

export type ReasonClass = 'crash' | 'stopped' | 'system-stopping' | 'decode' | 'no-sender-slot' | 'no-such-actor' | 'timeout' | 'mailbox' | 'other';

/** What a dead letter's reason says, in a few words. */
export function reasonClass(reason: string): ReasonClass {
  if (/^poison/i.test(reason)) return 'crash';
  if (/sender slots/.test(reason)) return 'no-sender-slot';
  if (/not valid msgpack|not an envelope|envelope field/i.test(reason)) return 'decode';
  if (/the system is (stopping|stopped)|system stopped/.test(reason)) return 'system-stopping';
  if (/is stopped|inbox is closed|could not be reached|removed from the tree/.test(reason)) return 'stopped';
  if (/no actor or inbox is registered/.test(reason)) return 'no-such-actor';
  if (/within \d+ ms/.test(reason)) return 'timeout';
  if (/mailbox/i.test(reason)) return 'mailbox';
  return 'other';
}

/** A reason with its ids and numbers blanked, so reasons can be counted by kind. */
export function reasonShape(reason: string): string {
  return reason
    .replace(/'dyn-\d+'/g, "'dyn-#'")
    .replace(/'a-\d+'/g, "'a-#'")
    .replace(/\d+/g, '#')
    .split('\n')[0]!
    .slice(0, 160);
}

/**
 * Dead letters of undecodable frames carry the frame's bytes (self-contained:
 * [head, from, id, payload, topic?]): read them without the codec's refusal to find the id.
 */
const lenient = new Unpackr({ useRecords: false, mapsAsObjects: false });

function idOf(payload: unknown): number | undefined {
  if (payload instanceof Uint8Array) {
    try {
      const env = lenient.unpack(payload) as unknown[];
      return idOf(Array.isArray(env) ? env[3] : undefined);
    } catch {
      return undefined;
    }
  }
  if (payload instanceof Map) {
    const id = payload.get('id');
    return typeof id === 'number' ? id : undefined;
  }
  if (typeof payload === 'object' && payload !== null) {
    const id = (payload as { id?: unknown }).id;
    return typeof id === 'number' ? id : undefined;
  }
  return undefined;
}

/** Longest a crash's poison letter may follow its `crashed` event (the worker is terminated in between), ms. */
export const POISON_AFTER_CRASH_MS = 10_000;

/** When a static actor could not take mail by design: stopped by the operator until restarted. */
export interface DownWindow {
  actor: string;
  from: number;
  to: number;
}

export class Ledger {
  readonly direct = new Map<number, DirectExpect>();
  readonly fanouts = new Map<number, FanoutExpect>();
  readonly asks = new Map<number, AskRecord>();
  readonly actorAsks = new Map<number, ActorAsk>();
  readonly deliveries = new Map<number, Delivery[]>();
  readonly letters = new Map<number, LetterRecord[]>();
  /** Dead letters without a soak id (none are expected): by reason shape. */
  readonly unattributed = new Map<string, number>();
  /** Delivery reports that were themselves dead-lettered (a delivery the account cannot see): by reason shape. */
  readonly lostReports = new Map<string, number>();
  readonly sentByKind: Record<string, number> = {};
  readonly down: DownWindow[] = [];
  /** Incarnations that ended (crash or stop), by actor: when, for asks their asker took with it. */
  readonly ended = new Map<string, Map<number, number>>();
  /** Incarnations that crashed, by actor: when (a crash dead-letters the message it had in flight, whatever it carried). */
  readonly crashed = new Map<string, Map<number, number>>();
  /** When system.stop() began; dead letters after it may say the system is stopping. */
  stopAt = Infinity;
  reports = 0;
  letterCount = 0;

  count(kind: string): void {
    this.sentByKind[kind] = (this.sentByKind[kind] ?? 0) + 1;
  }

  expectDirect(e: DirectExpect): void {
    this.direct.set(e.id, e);
  }

  expectFanout(f: FanoutExpect): void {
    this.fanouts.set(f.id, f);
  }

  /** Follow an ask from the main thread until it settles. */
  track(rec: AskRecord, p: Promise<unknown>): Promise<void> {
    this.asks.set(rec.id, rec);
    return p.then(
      (v) => {
        rec.settledAt = performance.now();
        rec.outcome = 'resolved';
        rec.answer = v as SoakReply;
      },
      (err: unknown) => {
        rec.settledAt = performance.now();
        const e = err as { code?: string; name?: string };
        rec.outcome = typeof e?.code === 'string' && /^ERR_/.test(e.code) ? e.code : `not-coded: ${e?.name ?? String(err)}`;
      },
    );
  }

  /** A delivery report or an actor's ask outcome, published by a soak actor. */
  onReport(r: SoakAck | SoakOutcome): void {
    this.reports++;
    if (r.type === 'outcome') {
      const a = this.actorAsks.get(r.id);
      if (a) a.outcome = r;
      return;
    }
    let list = this.deliveries.get(r.id);
    if (!list) this.deliveries.set(r.id, (list = []));
    list.push({ by: r.by, inc: r.inc, topic: r.topic, redelivered: r.redelivered === true, at: performance.now() });
    const outer = this.direct.get(r.id);
    if (outer?.inner !== undefined && r.published !== undefined) {
      const f = this.fanouts.get(outer.inner);
      if (f) f.reached = r.published;
    }
  }

  onDeadLetter(letter: DeadLetter): void {
    this.letterCount++;
    const p = letter.payload as { type?: unknown } | null;
    if (typeof p === 'object' && p !== null && (p.type === 'ack' || p.type === 'outcome')) {
      const key = `${letter.from}: ${reasonShape(letter.reason)}`;
      this.lostReports.set(key, (this.lostReports.get(key) ?? 0) + 1);
      return;
    }
    const id = idOf(letter.payload);
    if (id === undefined || !(this.direct.has(id) || this.fanouts.has(id) || this.asks.has(id) || this.actorAsks.has(id))) {
      const key = `${letter.kind} ${letter.from} → ${letter.to}: ${reasonShape(letter.reason)}`;
      this.unattributed.set(key, (this.unattributed.get(key) ?? 0) + 1);
      return;
    }
    let list = this.letters.get(id);
    if (!list) this.letters.set(id, (list = []));
    list.push({ to: letter.to, from: letter.from, kind: letter.kind, reason: letter.reason, cls: reasonClass(letter.reason), at: performance.now() });
  }

  onEnded(actor: string, incarnation: number, crash = false): void {
    for (const map of crash ? [this.ended, this.crashed] : [this.ended]) {
      let m = map.get(actor);
      if (!m) map.set(actor, (m = new Map()));
      if (!m.has(incarnation)) m.set(incarnation, performance.now());
    }
  }

  /** Whether `actor` crashed at most POISON_AFTER_CRASH_MS before `at` (its poison letter follows the worker's termination). */
  crashedBefore(actor: string, at: number): boolean {
    for (const t of this.crashed.get(actor)?.values() ?? []) if (t <= at && at - t <= POISON_AFTER_CRASH_MS) return true;
    return false;
  }

  /** Whether the outer message `id` was handled and finished (so what it sends on is owed). */
  handled(id: number): boolean {
    return this.handledBy(id) > 0 && !this.unfinished(id);
  }

  /** How many times the outer message `id` was handled by its addressee (more than once only when redelivered). */
  handledBy(id: number): number {
    const e = this.direct.get(id);
    return e ? (this.deliveries.get(id) ?? []).filter((d) => d.by === e.to).length : 0;
  }

  /**
   * Dead-lettered by the end of an incarnation that may have run its handler
   * (the one that reported handling it, or, without a report — it was still
   * to leave with the handler's sends —, one that ended before the letter):
   * what it sent on may or may not have left, so it is neither owed nor a phantom.
   */
  unfinished(id: number): boolean {
    const e = this.direct.get(id);
    if (!e) return false;
    const last = (this.deliveries.get(id) ?? []).filter((d) => d.by === e.to).at(-1);
    return (this.letters.get(id) ?? []).some((l) => l.to === e.to && (last ? this.endedUnfinished(e.to, last.inc, l) : this.endedBefore(e.to, l)));
  }

  /** Whether some incarnation of `to` ended in a way that explains letter `l`: a crash just before a poison letter, any end before a `stopped` one. */
  endedBefore(to: string, l: LetterRecord): boolean {
    if (l.cls === 'crash') return this.crashedBefore(to, l.at);
    return l.cls === 'stopped' && [...(this.ended.get(to)?.values() ?? [])].some((t) => t <= l.at);
  }

  /** Whether letter `l` of a message incarnation `inc` of `to` had handled is one its end explains: poison from a crash, or the actor stopped. */
  endedUnfinished(to: string, inc: number, l: LetterRecord): boolean {
    if (l.cls === 'crash') return this.crashed.get(to)?.has(inc) === true;
    return l.cls === 'stopped' && this.ended.get(to)?.has(inc) === true;
  }

  /** Messages neither delivered nor dead-lettered yet (the run waits for this to reach 0). */
  open(): number {
    let n = 0;
    for (const e of this.direct.values()) {
      if (e.outer !== undefined && !this.handled(e.outer)) continue;
      if ((this.deliveries.get(e.id) ?? []).length + (this.letters.get(e.id) ?? []).length === 0) n++;
    }
    for (const a of this.asks.values()) if (a.outcome === undefined) n++;
    return n;
  }

  /** Dead-letter classes the design allows for message `e` (none for mail to a live static actor). */
  allowed(e: { to: string; dyn: boolean; fault?: FaultTag }, l: LetterRecord): boolean {
    if (l.at >= this.stopAt && (l.cls === 'system-stopping' || l.cls === 'stopped')) return true;
    // Mail to an actor that has ended for good, or is stopped by the operator meanwhile, whatever it carries.
    if (l.cls === 'stopped') return e.dyn || this.down.some((w) => w.actor === e.to && l.at >= w.from && l.at <= w.to);
    // A dynamic child that ended is deleted from the tree: mail to it finds no such actor.
    if (l.cls === 'no-such-actor') return e.dyn;
    if (e.fault === 'undecodable') return l.cls === 'decode';
    // The message in flight when its receiver crashed is poison: a fault's, or any other one a hang verdict
    // (a starved worker on a busy machine) or an exit caught before it was done.
    return l.cls === 'crash' && (!!e.fault || this.crashedBefore(e.to, l.at));
  }
}
