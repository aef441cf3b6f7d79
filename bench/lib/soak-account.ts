/**
 * The ledger turned into the account: for every message with an id, whether
 * it was delivered exactly once or dead-lettered (and for a reason the
 * design allows it), every ask and how it settled, and the checks a run must
 * pass, each with what broke it.
 */
import type { Delivery, FanoutExpect, Ledger, LetterRecord } from './soak-ledger.js';
import { reasonShape } from './soak-ledger.js';
import { isDyn } from './soak-plan.js';

/** Longest list of ids kept per finding (the counts are always whole). */
export const LIST_CAP = 200;

export interface Finding {
  id: number;
  kind: string;
  to: string;
  detail: string;
}

export interface KindTally {
  sent: number;
  delivered: number;
  deadLettered: number;
  lost: number;
  duplicated: number;
}

export interface MessageAccount {
  /** Messages with one addressee: tells, relays' and other inner sends, faults. */
  direct: {
    total: number;
    notOwed: number;
    delivered: number;
    deadLettered: number;
    redeliveredThenHandled: number;
    /** Handled again by a later incarnation, marked redelivered: the earlier one ended before the message was done (at least once). */
    handledAgainRedelivered: number;
    /** Handled, then dead-lettered (poison, or the actor stopped for good): the incarnation that handled it ended before the message was done. */
    handledThenPoisoned: number;
    /** Delivered to a later incarnation than the one running when they were sent: they waited in the inbox across a crash or restart. */
    acrossRestart: number;
    byKind: Record<string, KindTally>;
  };
  /** Publishes and requests, counted per (message, receiver). */
  fanout: { messages: number; notOwed: number; receiversOwed: number; delivered: number; deadLettered: number; refusedAtSend: number; byKind: Record<string, KindTally> };
  deadLettersByClass: Record<string, number>;
  deadLettersByReason: Record<string, number>;
  lost: Finding[];
  duplicates: Finding[];
  misdelivered: Finding[];
  /** Sent on by an actor although the message that asked for it was never handled. */
  phantoms: Finding[];
  /** Dead-lettered for a reason the design rules out for that message. */
  disallowed: Finding[];
  /** Dead-lettered only when the system stopped, long after it was sent: it sat in a stopped actor's inbox. */
  stranded: Finding[];
  counts: { lost: number; duplicates: number; misdelivered: number; phantoms: number; disallowed: number; stranded: number };
}

export interface AskAccount {
  total: number;
  resolved: number;
  rejectedByCode: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  unsettled: Finding[];
  settledByStop: Finding[];
  notCoded: Finding[];
  wrongAnswer: Finding[];
  /** Asks whose message crashed its receiver (or could not be decoded) that ended by their timeout, or not with ActorCrashedError. */
  timedOutInsteadOfFailing: Finding[];
  duplicates: Finding[];
  /** A config ask after a valid config reload answered with the config from before it. */
  configNotApplied: Finding[];
  /** How many findings of each list (the lists stop at LIST_CAP). */
  counts: Record<string, number>;
  /** Asks and requests made by actors on the main thread's behalf. */
  byActors: { owed: number; byOutcome: Record<string, number>; askerEnded: number; cutByStop: number; unsettled: Finding[]; wrongAnswer: Finding[] };
}

const tally = (t: Record<string, KindTally>, k: string): KindTally => (t[k] ??= { sent: 0, delivered: 0, deadLettered: 0, lost: 0, duplicated: 0 });
const bump = (r: Record<string, number>, k: string, n = 1): void => void (r[k] = (r[k] ?? 0) + n);

function push(list: Finding[], f: Finding): void {
  if (list.length < LIST_CAP) list.push(f);
}

/** Grace after an ask's timeout before a missing outcome counts as never settled, ms. */
const SETTLE_GRACE_MS = 2000;
/** A dead letter at stop of a message older than this sat somewhere it should not have, ms. */
const STRANDED_MS = 5000;

/**
 * What the delivery guarantee allows of one message at one receiver beyond a
 * single handling: each later handling by a later incarnation, marked
 * redelivered (the one before ended before the message was done), and one
 * dead letter — poison, or the actor stopped for good — once the incarnation
 * that handled it last has ended: it ended before the message was done (a
 * report leaves in the handler, before its release). Returns how many of
 * those there were and how many handlings or letters it does not explain.
 */
export function beyondOnce(L: Ledger, to: string, ds: readonly Delivery[], ls: readonly LetterRecord[]): { again: number; poisoned: number; unexplained: number } {
  const out = { again: 0, poisoned: 0, unexplained: 0 };
  for (let i = 1; i < ds.length; i++) {
    if (ds[i]!.redelivered && ds[i]!.inc > ds[i - 1]!.inc) out.again++;
    else out.unexplained++;
  }
  const last = ds[ds.length - 1];
  for (const [i, l] of ls.entries()) {
    if (!last) {
      if (i > 0) out.unexplained++;
    } else if (i === 0 && L.endedUnfinished(to, last.inc, l)) out.poisoned++;
    else out.unexplained++;
  }
  return out;
}

function letterFinding(id: number, kind: string, to: string, l: LetterRecord): Finding {
  return { id, kind, to, detail: `${l.cls}: ${l.reason.split('\n')[0]!.slice(0, 200)}` };
}

export function accountMessages(L: Ledger): MessageAccount {
  const out: MessageAccount = {
    direct: { total: 0, notOwed: 0, delivered: 0, deadLettered: 0, redeliveredThenHandled: 0, handledAgainRedelivered: 0, handledThenPoisoned: 0, acrossRestart: 0, byKind: {} },
    fanout: { messages: 0, notOwed: 0, receiversOwed: 0, delivered: 0, deadLettered: 0, refusedAtSend: 0, byKind: {} },
    deadLettersByClass: {},
    deadLettersByReason: {},
    lost: [],
    duplicates: [],
    misdelivered: [],
    phantoms: [],
    disallowed: [],
    stranded: [],
    counts: { lost: 0, duplicates: 0, misdelivered: 0, phantoms: 0, disallowed: 0, stranded: 0 },
  };
  const c = out.counts;
  const letter = (l: LetterRecord): void => {
    bump(out.deadLettersByClass, l.cls);
    bump(out.deadLettersByReason, reasonShape(l.reason));
  };
  const judge = (id: number, kind: string, e: { to: string; dyn: boolean; fault?: Parameters<Ledger['allowed']>[0]['fault']; sentAt: number }, l: LetterRecord): void => {
    letter(l);
    if (l.at >= L.stopAt && e.sentAt < L.stopAt - STRANDED_MS && !e.dyn) {
      c.stranded++;
      push(out.stranded, letterFinding(id, kind, e.to, l));
    } else if (!L.allowed(e, l) || !l.reason) {
      c.disallowed++;
      push(out.disallowed, letterFinding(id, kind, e.to, l));
    }
  };

  for (const e of L.direct.values()) {
    const all = L.deliveries.get(e.id) ?? [];
    const letters = L.letters.get(e.id) ?? [];
    if (e.outer !== undefined && !L.handled(e.outer)) {
      out.direct.notOwed++;
      if (all.length + letters.length > 0 && !L.unfinished(e.outer)) {
        c.phantoms++;
        push(out.phantoms, { id: e.id, kind: e.kind, to: e.to, detail: `outer message ${e.outer} was never handled, yet this one was ${all.length ? `delivered to ${all.map((d) => d.by).join(', ')}` : 'dead-lettered'}` });
      }
      continue;
    }
    out.direct.total++;
    const t = tally(out.direct.byKind, e.kind);
    t.sent++;
    const mine = all.filter((d) => d.by === e.to);
    const wrong = all.filter((d) => d.by !== e.to);
    const ls = letters.filter((l) => l.to === e.to);
    if (wrong.length > 0) {
      c.misdelivered++;
      push(out.misdelivered, { id: e.id, kind: e.kind, to: e.to, detail: `handled by ${wrong.map((d) => `${d.by}#${d.inc}`).join(', ')}` });
    }
    const n = mine.length + ls.length;
    const beyond = beyondOnce(L, e.to, mine, ls);
    // An outer message handled again (redelivered) sends this one again: a copy per handling is the guarantee's.
    if (e.outer !== undefined) beyond.unexplained = Math.max(0, beyond.unexplained - (L.handledBy(e.outer) - 1));
    out.direct.handledAgainRedelivered += beyond.again;
    out.direct.handledThenPoisoned += beyond.poisoned;
    if (n === 0) {
      t.lost++;
      c.lost++;
      push(out.lost, { id: e.id, kind: e.kind, to: e.to, detail: letters.length ? `dead-lettered to ${letters.map((l) => l.to).join(', ')} only` : 'neither delivered nor dead-lettered' });
      continue;
    }
    if (beyond.unexplained > 0) {
      t.duplicated++;
      c.duplicates++;
      const parts = [...mine.map((d) => `handled by ${d.by}#${d.inc}${d.redelivered ? ' (redelivered)' : ''}`), ...ls.map((l) => `dead-lettered (${l.cls})`)];
      push(out.duplicates, { id: e.id, kind: e.kind, to: e.to, detail: parts.join('; ') });
    }
    if (mine.length > 0) {
      t.delivered++;
      out.direct.delivered++;
      const d = mine[0]!;
      if (d.redelivered) out.direct.redeliveredThenHandled++;
      const ended = L.ended.get(e.to);
      if (ended && [...ended].some(([inc, at]) => inc < d.inc && at > e.sentAt)) out.direct.acrossRestart++;
    } else {
      t.deadLettered++;
      out.direct.deadLettered++;
    }
    for (const l of ls) judge(e.id, e.kind, e, l);
  }

  for (const f of L.fanouts.values()) accountFanout(L, f, out, judge);
  return out;
}

function accountFanout(
  L: Ledger,
  f: FanoutExpect,
  out: MessageAccount,
  judge: (id: number, kind: string, e: { to: string; dyn: boolean; sentAt: number }, l: LetterRecord) => void,
): void {
  const c = out.counts;
  const all = L.deliveries.get(f.id) ?? [];
  const letters = L.letters.get(f.id) ?? [];
  if (f.outer !== undefined && !L.handled(f.outer)) {
    out.fanout.notOwed++;
    if (all.length + letters.length > 0 && !L.unfinished(f.outer)) {
      c.phantoms++;
      push(out.phantoms, { id: f.id, kind: f.kind, to: f.subject, detail: `outer message ${f.outer} was never handled, yet this one reached someone` });
    }
    return;
  }
  out.fanout.messages++;
  const t = tally(out.fanout.byKind, f.kind);
  const seen = new Map<string, { d: number; ds: Delivery[]; l: LetterRecord[] }>();
  const at = (r: string): { d: number; ds: Delivery[]; l: LetterRecord[] } => {
    let s = seen.get(r);
    if (!s) seen.set(r, (s = { d: 0, ds: [], l: [] }));
    return s;
  };
  for (const d of all) {
    at(d.by).d++;
    at(d.by).ds.push(d);
  }
  for (const l of letters) at(l.to).l.push(l);
  const owed = f.receivers ?? [...seen.keys()];
  const expected = f.receivers ? f.receivers.length : Math.max(f.reached ?? 0, seen.size);
  out.fanout.receiversOwed += expected;
  t.sent += expected;
  for (const [r, s] of seen) {
    if (f.receivers && !f.receivers.includes(r)) {
      c.misdelivered++;
      push(out.misdelivered, { id: f.id, kind: f.kind, to: f.subject, detail: `reached ${r}, which did not subscribe to it when it was sent` });
    }
    if (beyondOnce(L, r, s.ds, s.l).unexplained > (f.outer !== undefined ? L.handledBy(f.outer) - 1 : 0)) {
      t.duplicated++;
      c.duplicates++;
      push(out.duplicates, { id: f.id, kind: f.kind, to: `${f.subject} → ${r}`, detail: `${s.d} deliveries, ${s.l.length} dead letters` });
    }
    if (s.d > 0) {
      t.delivered++;
      out.fanout.delivered++;
    } else {
      t.deadLettered++;
      out.fanout.deadLettered++;
    }
    for (const l of s.l) judge(f.id, f.kind, { to: r, dyn: isDyn(r), sentAt: f.sentAt }, l);
  }
  let missing: string[] = [];
  if (f.receivers) missing = owed.filter((r) => !seen.has(r));
  else if (f.reached !== null && f.reached > seen.size) missing = Array.from({ length: f.reached - seen.size }, () => '?');
  for (const r of missing) {
    // A request is an ask to each subscriber: one stopped for good at that moment refuses it at send, with no dead letter.
    if (f.request && r !== '?' && L.down.some((w) => w.actor === r && f.sentAt >= w.from && f.sentAt <= w.to)) {
      out.fanout.refusedAtSend++;
      continue;
    }
    t.lost++;
    c.lost++;
    push(out.lost, { id: f.id, kind: f.kind, to: `${f.subject} → ${r}`, detail: r === '?' ? `reported reaching ${f.reached} subscribers, ${seen.size} accounted for` : 'neither delivered nor dead-lettered' });
  }
}

const unmarked = (ds: readonly Delivery[]): string => ds.map((d) => `#${d.inc}${d.redelivered ? ' redelivered' : ''}`).join(', ');

export function accountAsks(L: Ledger): AskAccount {
  const out: AskAccount = {
    total: 0,
    resolved: 0,
    rejectedByCode: {},
    byKind: {},
    unsettled: [],
    settledByStop: [],
    notCoded: [],
    wrongAnswer: [],
    timedOutInsteadOfFailing: [],
    duplicates: [],
    configNotApplied: [],
    counts: {},
    byActors: { owed: 0, byOutcome: {}, askerEnded: 0, cutByStop: 0, unsettled: [], wrongAnswer: [] },
  };
  const note = (name: keyof AskAccount | `byActors.${'unsettled' | 'wrongAnswer'}`, f: Finding): void => {
    bump(out.counts, name);
    const list = name.startsWith('byActors.') ? out.byActors[name.slice(9) as 'unsettled' | 'wrongAnswer'] : (out[name as keyof AskAccount] as Finding[]);
    push(list, f);
  };
  for (const a of L.asks.values()) {
    out.total++;
    const f = (detail: string): Finding => ({ id: a.id, kind: a.kind, to: a.target, detail });
    const o = a.outcome ?? 'unsettled';
    bump((out.byKind[a.kind] ??= {}), o);
    if (a.outcome === undefined) {
      note('unsettled', f(`sent ${Math.round(performance.now() - a.sentAt)} ms ago with a ${a.timeout} ms timeout`));
      continue;
    }
    if (a.settledAt !== undefined && a.settledAt >= L.stopAt) {
      a.byStop = true;
      note('settledByStop', f(`${o} only at system stop, ${Math.round(a.settledAt - a.sentAt)} ms after it was sent (timeout ${a.timeout} ms)`));
    }
    if (o === 'resolved') {
      out.resolved++;
      const ans = a.answer;
      const by = a.kind === 'request' ? true : ans?.by === a.target;
      if (!ans || ans.id !== a.id || !by) note('wrongAnswer', f(`answered ${JSON.stringify(ans)}`));
      else if (a.expectRev !== undefined && ans.rev !== a.expectRev) note('configNotApplied', f(`answered with config rev ${String(ans.rev)} after applyTree had changed it to rev ${a.expectRev}`));
    } else {
      bump(out.rejectedByCode, o);
      if (o.startsWith('not-coded')) note('notCoded', f(o));
      const l0 = (L.letters.get(a.id) ?? [])[0];
      if (a.kind === 'fault-ask' && l0?.cls === 'crash' && o !== 'ERR_ACTOR_CRASHED') note('timedOutInsteadOfFailing', f(`its message was dead-lettered as poison, yet the ask settled with ${o}`));
      else if (o === 'ERR_ASK_TIMEOUT' && (a.kind === 'fault-ask' || a.kind === 'undecodable-ask')) {
        const l = (L.letters.get(a.id) ?? [])[0];
        note('timedOutInsteadOfFailing', f(`${a.fault ?? ''} ask ended by its ${a.timeout} ms timeout${l ? `; its message was dead-lettered (${l.cls}: ${reasonShape(l.reason)})` : ''}`));
      }
    }
    const handledBy = new Map<string, Delivery[]>();
    for (const d of L.deliveries.get(a.id) ?? []) handledBy.set(d.by, [...(handledBy.get(d.by) ?? []), d]);
    for (const [by, ds] of handledBy) if (beyondOnce(L, by, ds, []).unexplained > 0) note('duplicates', f(`handled ${ds.length} times by ${by} (${unmarked(ds)})`));
  }

  const B = out.byActors;
  for (const x of L.actorAsks.values()) {
    if (!L.handled(x.outer)) continue;
    B.owed++;
    const outer = (L.deliveries.get(x.outer) ?? []).find((d) => d.by === x.via)!;
    const f = (detail: string): Finding => ({ id: x.id, kind: x.kind, to: `${x.via} → ${x.to}`, detail });
    if (x.outcome) {
      const o = x.outcome.ok ? 'resolved' : (x.outcome.code ?? 'unknown');
      bump(B.byOutcome, o);
      if (x.outcome.ok && (x.outcome.answered !== x.id || (x.kind === 'peer-ask' && x.outcome.answeredBy !== x.to))) note('byActors.wrongAnswer', f(`answered id ${x.outcome.answered} by ${x.outcome.answeredBy}`));
      if (!x.outcome.ok && !/^ERR_/.test(o)) note('byActors.wrongAnswer', f(`failed with a non-coded error ${o}`));
    } else {
      const ended = L.ended.get(x.via)?.get(outer.inc);
      const by = outer.at + x.timeout + SETTLE_GRACE_MS;
      if (ended !== undefined && ended <= by) B.askerEnded++;
      else if (L.stopAt <= by) B.cutByStop++;
      else note('byActors.unsettled', f(`no outcome from ${x.via}#${outer.inc}, which was still running ${x.timeout + SETTLE_GRACE_MS} ms after it asked`));
    }
    if (x.kind === 'peer-ask') {
      const ds = (L.deliveries.get(x.id) ?? []).filter((d) => d.by === x.to);
      if (beyondOnce(L, x.to, ds, []).unexplained > L.handledBy(x.outer) - 1) note('duplicates', f(`handled ${ds.length} times by ${x.to} (${unmarked(ds)})`));
    }
  }
  return out;
}
