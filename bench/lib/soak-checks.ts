/**
 * What a soak run must show, each as a check with the evidence against it:
 * the delivery semantics the design promises, the reload and escalation
 * rules, and nothing left behind.
 */
import type { Finding } from './soak-account.js';
import type { SoakResult } from './soak-run.js';

export interface Check {
  id: CheckId;
  name: string;
  ok: boolean;
  detail: string;
}

export type CheckId =
  | 'tells-accounted'
  | 'no-duplicates'
  | 'dead-letter-reasons'
  | 'asks-settled'
  | 'asks-fail-fast'
  | 'reloads'
  | 'escalation'
  | 'no-boot-heartbeat-kills'
  | 'no-worker-threads'
  | 'no-timers'
  | 'memory-flat'
  | 'ran-to-end';

/** Memory of the last round may be at most this many times that of the second (the first one still warms up). */
export const FLAT_RATIO = 1.5;

const sample = (xs: Finding[], n = 3): string => xs.slice(0, n).map((f) => `#${f.id} ${f.kind} → ${f.to}: ${f.detail}`).join('; ');
const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** The state the actor was in when its config reload was applied. */
function reloadState(r: Omit<SoakResult, 'checks' | 'ok'>, actor: string): string {
  const rec = r.reloads.find((x) => x.valid && x.kind === 'config' && x.expect === `configure:${actor}` && x.targetState);
  return rec ? `, reloaded while ${rec.targetState}` : '';
}

export function judge(r: Omit<SoakResult, 'checks' | 'ok'>): Check[] {
  const m = r.messages;
  const a = r.asks;
  const c = m.counts;
  const checks: Check[] = [];
  const add = (id: CheckId, name: string, ok: boolean, detail: string): void => void checks.push({ id, name, ok, detail });

  add(
    'tells-accounted',
    'every message with an id delivered exactly once or dead-lettered with a reason',
    c.lost === 0 && c.misdelivered === 0 && c.phantoms === 0,
    `${m.direct.total} direct messages (${m.direct.delivered} delivered, ${m.direct.deadLettered} dead-lettered), ${m.fanout.receiversOwed} publish/request deliveries owed (${m.fanout.delivered} delivered, ${m.fanout.deadLettered} dead-lettered); lost ${c.lost}, misdelivered ${c.misdelivered}, phantom ${c.phantoms}` +
      (c.lost ? `; lost: ${sample(m.lost)}` : '') +
      (c.misdelivered ? `; misdelivered: ${sample(m.misdelivered)}` : '') +
      (c.phantoms ? `; phantoms: ${sample(m.phantoms)}` : ''),
  );
  const askDups = a.counts.duplicates ?? 0;
  add('no-duplicates', 'no message handled twice, but by a later incarnation that got it marked redelivered', c.duplicates + askDups === 0, `messages duplicated ${c.duplicates}, asks handled twice ${askDups}` + (c.duplicates ? `; ${sample(m.duplicates)}` : '') + (askDups ? `; ${sample(a.duplicates)}` : ''));
  const byClass: Record<string, number> = {};
  for (const f of m.disallowed) byClass[f.detail.split(':')[0]!] = (byClass[f.detail.split(':')[0]!] ?? 0) + 1;
  add(
    'dead-letter-reasons',
    'dead letters only where the design puts them (crash, stopped actor, undecodable), never to a live actor',
    c.disallowed === 0 && c.stranded === 0,
    `${c.disallowed} dead letters for a reason the design rules out${c.disallowed ? ` (of the first ${m.disallowed.length}, by class: ${JSON.stringify(byClass)}; e.g. ${sample(m.disallowed, 2)})` : ''}; ${c.stranded} only dead-lettered at system stop${c.stranded ? ` (e.g. ${sample(m.stranded, 2)})` : ''}`,
  );
  const unsettled = (a.counts.unsettled ?? 0) + (a.counts.settledByStop ?? 0) + (a.counts['byActors.unsettled'] ?? 0);
  const wrong = (a.counts.wrongAnswer ?? 0) + (a.counts.notCoded ?? 0) + (a.counts['byActors.wrongAnswer'] ?? 0);
  add(
    'asks-settled',
    'every ask settled: resolved with its own answer, or rejected with a coded RingmasterError',
    unsettled + wrong === 0,
    `${a.total} asks from the main thread (${a.resolved} resolved, rejected by code ${JSON.stringify(a.rejectedByCode)}), ${a.byActors.owed} by actors (${JSON.stringify(a.byActors.byOutcome)}; asker ended first ${a.byActors.askerEnded})` +
      `; unsettled ${a.counts.unsettled ?? 0}, settled only by the stop ${a.counts.settledByStop ?? 0}, actors' unsettled ${a.counts['byActors.unsettled'] ?? 0}, wrong or uncoded answers ${wrong}` +
      (unsettled ? `; e.g. ${sample([...a.unsettled, ...a.settledByStop, ...a.byActors.unsettled], 2)}` : '') +
      (wrong ? `; e.g. ${sample([...a.wrongAnswer, ...a.notCoded, ...a.byActors.wrongAnswer], 2)}` : ''),
  );
  const slow = a.counts.timedOutInsteadOfFailing ?? 0;
  add('asks-fail-fast', 'an ask whose message crashes its receiver or cannot be decoded fails with that reason, not by its timeout', slow === 0, `${slow} ended by their timeout` + (slow ? `: ${sample(a.timedOutInsteadOfFailing, 2)}` : ''));

  const valid = r.reloads.filter((x) => x.valid);
  const invalid = r.reloads.filter((x) => !x.valid);
  const badValid = valid.filter((x) => x.error || x.got?.length !== 1 || x.got[0] !== x.expect);
  const badInvalid = invalid.filter((x) => x.error?.code !== 'ERR_INVALID_TREE' || !x.unchanged);
  const stale = a.counts.configNotApplied ?? 0;
  add(
    'reloads',
    'valid reloads apply exactly their change (a new config reaches the actor); invalid ones are refused whole with InvalidTreeError and change nothing',
    badValid.length + badInvalid.length + stale === 0,
    `${valid.length} valid (${valid.length - badValid.length} as expected), ${invalid.length} invalid (${invalid.length - badInvalid.length} refused whole); actors still on the old config after a config reload: ${stale}` +
      (stale ? ` (${a.configNotApplied.slice(0, 3).map((f) => `${f.to} ${f.detail}${reloadState(r, f.to)}`).join('; ')})` : '') +
      (badValid.length ? `; valid ones that went wrong: ${badValid.slice(0, 3).map((x) => `${x.kind} expected ${x.expect}, got ${x.error ? `${x.error.code}: ${x.error.message}` : JSON.stringify(x.got)}`).join('; ')}` : '') +
      (badInvalid.length ? `; invalid ones that got through: ${badInvalid.slice(0, 3).map((x) => `${x.kind}: ${x.error ? (x.error.code === 'ERR_INVALID_TREE' ? x.error.code : `${x.error.code} (${x.error.message})`) : 'accepted'}${x.unchanged ? '' : ', tree changed'}`).join('; ')}` : ''),
  );
  const e = r.escalation;
  add(
    'escalation',
    'a supervisor past its restart intensity escalates, and its parent restarts it',
    !!e && e.escalated && e.back && e.askOutcome === 'resolved',
    e ? `escalated: ${e.escalated}${e.reason ? ` (${e.reason.slice(0, 120)})` : ''}; victim back: ${e.back}; its ask afterwards: ${e.askOutcome ?? 'not sent'}` : 'not reached (the run ended first)',
  );
  const boot = r.restarts.killedRightAfterBoot;
  add(
    'no-boot-heartbeat-kills',
    'the watchdog never counts the time an incarnation spent booting against its heartbeat',
    boot.length === 0,
    `${boot.length} incarnations killed for a silence longer than their time since ready` + (boot.length ? `: ${boot.slice(0, 3).map((b) => `${b.actor}#${b.incarnation} up ${b.upMs} ms, silent ${b.silentMs} ms`).join('; ')}` : ''),
  );
  const L = r.leftovers;
  const gone = L.goneAfterMs === null ? `; still there ${JSON.stringify({ threads: L.threadsAtEnd, ...L.resourcesAtEnd })} 2 s later` : L.goneAfterMs > 0 ? `; all gone ${L.goneAfterMs} ms later` : '';
  const measured = Number.isFinite(L.threadsBefore) && Number.isFinite(L.threadsAfterStop);
  add(
    'no-worker-threads',
    'no worker thread left once system.stop() has resolved',
    !measured || L.threadsAfterStop <= L.threadsBefore,
    measured ? `threads before start ${L.threadsBefore}, when stop() resolved ${L.threadsAfterStop}${gone}` : 'thread count not available on this platform',
  );
  const timers = (L.resourcesAfterStop.Timeout ?? 0) + (L.resourcesAfterStop.Immediate ?? 0);
  add('no-timers', 'no timer left once system.stop() has resolved', timers === 0, `new active resources when stop() resolved: ${JSON.stringify(L.resourcesAfterStop)}${gone}`);

  const rounds = r.rounds;
  if (rounds.length < 3) add('memory-flat', `memory flat across rounds (last within ${FLAT_RATIO}× of the second)`, true, `only ${rounds.length} rounds: not judged`);
  else {
    const second = rounds[1]!;
    const last = rounds[rounds.length - 1]!;
    const rss = last.rssMb / second.rssMb;
    const ab = last.arrayBuffersMb / Math.max(second.arrayBuffersMb, 1);
    add(
      'memory-flat',
      `memory flat across rounds (last within ${FLAT_RATIO}× of the second)`,
      rss <= FLAT_RATIO && ab <= FLAT_RATIO,
      `RSS ${second.rssMb} → ${last.rssMb} MB (×${rss.toFixed(2)}), arrayBuffers (shared memory included) ${second.arrayBuffersMb} → ${last.arrayBuffersMb} MB (×${ab.toFixed(2)}), rounds ${second.round} → ${last.round}${r.gcForced ? ', each after a full GC' : ', no forced GC available'}`,
    );
  }
  add(
    'ran-to-end',
    'the system ran the whole plan (no escalation reached the root)',
    r.stoppedBySelf === null && r.faults.skipped === 0,
    r.stoppedBySelf === null ? `${sum(r.sent)} messages sent, ${r.faults.skipped} ops skipped` : `the system stopped by itself: ${r.stoppedBySelf}; ${r.faults.skipped} ops skipped`,
  );
  return checks;
}
