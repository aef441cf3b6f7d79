/** The soak's account as text: one table per part, then the checks and the findings by id. */
import type { Finding } from './soak-account.js';
import type { SoakResult } from './soak-run.js';
import { table } from './report.js';

const s = (x: number | undefined): string => String(x ?? 0);
const top = (r: Record<string, number>, n: number): Array<[string, number]> =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);

function findings(title: string, xs: Finding[], total: number, n = 10): string {
  if (total === 0) return '';
  const lines = xs.slice(0, n).map((f) => `  #${f.id} ${f.kind} → ${f.to}: ${f.detail}`);
  return `\n${title} (${total}${total > lines.length ? `, first ${lines.length}` : ''}):\n${lines.join('\n')}`;
}

export function renderSoak(r: SoakResult): string {
  const out: string[] = [];
  const m = r.messages;
  const a = r.asks;
  out.push(`soak seed ${r.seed}: ${r.seconds} s of chaos, ${r.actors} static actors under ${r.tree.supervisors.join(', ')}, hubs ${r.tree.hubs.join(', ')}; node ${r.node}, ${r.cpus} CPUs; ${r.wallSeconds} s wall`);
  out.push(`replay: ${r.replay}`);
  out.push(`static actors: ${r.tree.statics.map((x) => `${x.id}@${x.supervisor} (maxRedeliveries ${x.maxRedeliveries}${x.standby ? ', standby' : ''}${x.subscribe.length + x.patterns.length ? `, subscribes ${[...x.subscribe, ...x.patterns].join(' ')}` : ''})`).join('; ')}`);

  out.push('\nsent, by kind');
  out.push(table([['kind', 'sent'], ...Object.entries(r.sent).sort().map(([k, n]) => [k, s(n)])]));

  out.push('\nmessages with one addressee (tells, faults, what actors sent on)');
  const dk = Object.entries(m.direct.byKind).sort();
  out.push(
    table([
      ['kind', 'owed', 'delivered once', 'dead-lettered', 'lost', 'duplicated'],
      ...dk.map(([k, t]) => [k, s(t.sent), s(t.delivered), s(t.deadLettered), s(t.lost), s(t.duplicated)]),
      ['all', s(m.direct.total), s(m.direct.delivered), s(m.direct.deadLettered), s(dk.reduce((x, [, t]) => x + t.lost, 0)), s(dk.reduce((x, [, t]) => x + t.duplicated, 0))],
    ]),
  );
  out.push(`  not owed (their outer message was never handled): ${m.direct.notOwed}; first handled on a redelivery (one-shot faults): ${m.direct.redeliveredThenHandled}; handled again by a later incarnation, marked redelivered: ${m.direct.handledAgainRedelivered}; handled, then dead-lettered (its incarnation ended before it was done): ${m.direct.handledThenPoisoned}; delivered to a later incarnation than the one that was running when sent (waited in the inbox across a crash or restart): ${m.direct.acrossRestart}`);

  out.push('\npublishes and requests, per receiver');
  out.push(table([['kind', 'owed', 'delivered', 'dead-lettered', 'lost', 'duplicated'], ...Object.entries(m.fanout.byKind).sort().map(([k, t]) => [k, s(t.sent), s(t.delivered), s(t.deadLettered), s(t.lost), s(t.duplicated)])]));
  out.push(`  messages ${m.fanout.messages}, not owed ${m.fanout.notOwed}, requests refused at send by a stopped subscriber ${m.fanout.refusedAtSend}`);

  out.push('\ndead letters of the account, by class');
  out.push(table([['class', 'n'], ...top(m.deadLettersByClass, 20).map(([k, n]) => [k, s(n)])]));
  out.push('most frequent reasons');
  out.push(table([['reason', 'n'], ...top(m.deadLettersByReason, 12).map(([k, n]) => [k, s(n)])]));
  out.push(`  dead-letter events ${r.deadLetters.events} (system.deadLetterCount ${r.deadLetters.systemCount}); without a soak id: ${JSON.stringify(r.deadLetters.unattributed)}; delivery reports dead-lettered: ${JSON.stringify(r.deadLetters.lostReports)}`);

  const codes = [...new Set(Object.values(a.byKind).flatMap((o) => Object.keys(o)))].sort();
  out.push('\nasks from the main thread, by how they settled');
  out.push(table([['kind', 'total', ...codes], ...Object.entries(a.byKind).sort().map(([k, o]) => [k, s(Object.values(o).reduce((x, y) => x + y, 0)), ...codes.map((c) => s(o[c]))])]));
  out.push(`  by actors: owed ${a.byActors.owed}, ${JSON.stringify(a.byActors.byOutcome)}, asker's incarnation ended first ${a.byActors.askerEnded}, cut by the stop ${a.byActors.cutByStop}`);

  out.push('\nfaults injected, by kind');
  const fk = [...new Set([...Object.keys(r.faults.faults), ...Object.keys(r.faults.faultsOnDynamic)])].sort();
  out.push(table([['fault', 'static actors', 'dynamic children'], ...fk.map((k) => [k, s(r.faults.faults[k]), s(r.faults.faultsOnDynamic[k])])]));
  const op = (x: { ok: number; failed: Record<string, number>; messages: Record<string, string> }): string =>
    `${x.ok} ok${Object.keys(x.failed).length ? `, failed ${Object.entries(x.failed).map(([k, n]) => `${k} ×${n} ("${x.messages[k]?.slice(0, 140)}")`).join(', ')}` : ''}`;
  out.push(`  operator restarts (system.restartActor: no public way to terminate a worker from outside) ${op(r.faults.operatorRestarts)}; stop-then-restart ${op(r.faults.stopStarts)}`);
  out.push(`  dynamic children: spawned ${op(r.faults.spawns)}; stopped with stopActor ${op(r.faults.dynStops)}`);

  out.push('\nrestarts and crashes, by cause');
  const causes = [...new Set([...Object.keys(r.restarts.crashesByCause), ...Object.keys(r.restarts.metrics.crashesByCause)])].sort();
  out.push(table([['cause', 'crashed events', 'metrics()'], ...causes.map((k) => [k, s(r.restarts.crashesByCause[k as keyof typeof r.restarts.crashesByCause]), s(r.restarts.metrics.crashesByCause[k])])]));
  out.push(table([['crash (who, cause, reason)', 'n'], ...top(r.restarts.crashReasons, 20).map(([k, n]) => [k.slice(0, 150), s(n)])]));
  const boot = r.restarts.killedRightAfterBoot;
  if (boot.length) out.push(`  killed by the watchdog for a silence that began before they were ready: ${boot.map((b) => `${b.actor}#${b.incarnation} (up ${b.upMs} ms, silent ${b.silentMs} ms)`).join(', ')}`);
  out.push(`  restarted events ${r.restarts.restartedEvents}, metrics restarts ${r.restarts.metrics.restarts}, heartbeat misses ${r.restarts.metrics.heartbeatMisses}, stopped events ${r.restarts.stoppedEvents}; escalations: ${r.restarts.escalations.map((e) => e.supervisor).join(', ') || 'none'}`);

  const valid = r.reloads.filter((x) => x.valid);
  const invalid = r.reloads.filter((x) => !x.valid);
  const byKind = (xs: typeof r.reloads): string => JSON.stringify(xs.reduce<Record<string, number>>((acc, x) => ((acc[x.kind] = (acc[x.kind] ?? 0) + 1), acc), {}));
  out.push(`\nreloads: ${valid.length} valid ${byKind(valid)}, ${invalid.length} invalid ${byKind(invalid)}`);

  out.push('\nrounds (after a full GC each)');
  out.push(
    table([
      ['round', 't s', 'RSS MB', 'heap MB', 'arrayBuffers MB', 'threads', 'actors listed', 'subscriptions', 'dead letters', 'crashes'],
      ...r.rounds.map((x) => [s(x.round), x.atS.toFixed(1), x.rssMb.toFixed(1), x.heapUsedMb.toFixed(1), x.arrayBuffersMb.toFixed(1), s(x.threads), s(x.actorsListed), s(x.subscriptions), s(x.deadLetters), s(x.crashes)]),
    ]),
  );

  out.push('\nchecks');
  for (const c of r.checks) out.push(`  [${c.ok ? 'ok' : 'FAIL'}] ${c.name}\n         ${c.detail}`);

  out.push(
    [
      findings('lost', m.lost, m.counts.lost),
      findings('duplicated', m.duplicates, m.counts.duplicates),
      findings('misdelivered', m.misdelivered, m.counts.misdelivered),
      findings('phantom', m.phantoms, m.counts.phantoms),
      findings('dead-lettered for a reason the design rules out', m.disallowed, m.counts.disallowed),
      findings('dead-lettered only at system stop', m.stranded, m.counts.stranded),
      findings('asks never settled', a.unsettled, a.counts.unsettled ?? 0),
      findings('asks settled only by system.stop()', a.settledByStop, a.counts.settledByStop ?? 0),
      findings('asks ended by their timeout instead of failing', a.timedOutInsteadOfFailing, a.counts.timedOutInsteadOfFailing ?? 0),
      findings('wrong answers', a.wrongAnswer, a.counts.wrongAnswer ?? 0),
      findings('config reloads that did not reach the actor', a.configNotApplied, a.counts.configNotApplied ?? 0),
      findings("actors' asks never settled", a.byActors.unsettled, a.counts['byActors.unsettled'] ?? 0),
    ].join(''),
  );
  return out.join('\n');
}
