/**
 * Supervision benchmark: how fast a crashed or hung actor is replaced (with
 * and without a standby worker, against a bare `new Worker()` respawn), and
 * what 100 idle actors cost to start, to keep running and in memory. Prints a
 * table and writes bench/results/supervision.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HEARTBEAT_MISSES, DEFAULT_HEARTBEAT_MS } from '../src/index.js';
import { withOtherLoad } from './lib/machine.js';
import { runBench } from './lib/peer.js';
import { check, table } from './lib/report.js';
import { round2, summarize } from './lib/stats.js';
import { bareFleet, fleet, type FleetPlan } from './lib/fleet.js';
import { BENCH_ACTOR_DIRECT, bareRespawnLoop, faultLoop, type FaultPlan } from './lib/supervision-runs.js';

/** Compiled to dist/bench/; results belong in the source tree's bench/results/. */
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/supervision.json');
const CPUS = availableParallelism();
/** Whole-run limit: a measure that hangs must not keep the process (and run-all) waiting. */
const RUN_LIMIT_MS = 120_000;

const HEARTBEAT = { intervalMs: 10, misses: 3 };
/** The hang target: the misses' worth of periods plus one watchdog tick of slack. */
const HANG_TARGET_MS = HEARTBEAT.intervalMs * HEARTBEAT.misses + 10;
const CRASH_TARGET_MS = 30;
const IDLE_TARGET_PCT = 2;
/** Share of the machine other processes may take during a phase before its numbers are flagged. */
const NOISY_PCT = 5;

// A standby spare boots again after each restart (~100-200 ms, more under load); 300 ms lets it be ready for the next fault.
const STANDBY: FaultPlan = { count: 50, warmup: 2, gapMs: 300 };
// Nothing to re-arm without standby: the gap only lets the dead worker's teardown finish.
const COLD: FaultPlan = { count: 50, warmup: 2, gapMs: 50 };
const COLD_DIRECT: FaultPlan = { count: 15, warmup: 2, gapMs: 50 };
const BARE: FaultPlan = { count: 50, warmup: 2, gapMs: 30 };
const HANG: FaultPlan = { count: 30, warmup: 2, gapMs: 300 };
// Each worker's V8 runs memory-reducing GC rounds for a while after it goes quiet: bursts of 10-30% of a core
// every ~8 s for 100 actors, fading out over a minute or two. A run that must end in ~90 s cannot wait that
// out, so the window is the fleet's first idle seconds; the per-second figures show the bursts.
const FLEET: FleetPlan = { actors: 100, settleMs: 3000, idleMs: 5000 };

interface MsSummary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** summarize() takes µs; these samples are ms. */
function ms(samples: number[]): MsSummary {
  const s = summarize(samples.map((x) => x * 1000));
  return { n: s.n, p50: round2(s.p50 / 1000), p99: round2(s.p99 / 1000), mean: round2(s.mean / 1000), max: round2(s.max / 1000) };
}

const pick = (s: MsSummary): { p50: number; p99: number } => ({ p50: s.p50, p99: s.p99 });
const f1 = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const started = performance.now();
  const log = (s: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${s}`);
  const other: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    log(`${name} …`);
    const r = await withOtherLoad(CPUS, fn);
    other[name] = r.otherLoadPct;
    return r.value;
  };

  // First, so its memory baseline is not raised by the workers of the other measures.
  const fl = await phase('fleet', () => fleet(FLEET));
  const bareFl = await phase('bareFleet', () => bareFleet(FLEET));
  const sb = await phase('standby', () => faultLoop({ standby: true }, 'throw', 'exception', STANDBY));
  const cold = await phase('cold', () => faultLoop({ standby: false }, 'throw', 'exception', COLD));
  const coldDirect = await phase('coldDirect', () => faultLoop({ standby: false, module: BENCH_ACTOR_DIRECT }, 'throw', 'exception', COLD_DIRECT));
  const bare = await phase('bare', () => bareRespawnLoop(BARE));
  const hang = await phase('hang', () => faultLoop({ standby: true, heartbeat: HEARTBEAT }, 'spin', 'heartbeat', HANG));
  log('done');

  const crash = ms(sb.toReadyMs);
  const crashEvent = ms(sb.toCrashedMs);
  const crashCold = ms(cold.toReadyMs);
  const crashColdDirect = ms(coldDirect.toReadyMs);
  const bareS = ms(bare);
  const hangDet = ms(hang.toCrashedMs);
  const hangReady = ms(hang.toReadyMs);
  const silence = ms(hang.reportedSilenceMs);

  const noisy = Object.keys(other).filter((k) => other[k]! > NOISY_PCT);
  const row = (label: string, s: MsSummary): string[] => [label, String(s.n), f1(s.p50), f1(s.p99), f1(s.mean), f1(s.max)];
  console.log(`\nnode ${process.version}, ${CPUS} CPUs; times from the fatal tell (or postMessage) on the main thread`);
  console.log(
    table([
      ['measure', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'max ms'],
      row('crash → ready, standby', crash),
      row("  of which crash → 'crashed' event", crashEvent),
      row('crash → ready, no standby', crashCold),
      row('  same, actor imports define.js only', crashColdDirect),
      row('bare new Worker() respawn', bareS),
      row(`hang → detected (${HEARTBEAT.intervalMs} ms × ${HEARTBEAT.misses})`, hangDet),
      row('  silence the watchdog reported', silence),
      row('hang → ready, standby', hangReady),
    ]),
  );
  console.log(`
${fl.actors} echo actors, one one_for_one supervisor, standby off, default heartbeat (${DEFAULT_HEARTBEAT_MS} ms × ${DEFAULT_HEARTBEAT_MISSES}):
  start ${fmtS(fl.startMs)} (CPU: ${fmtS(fl.startCpuMs.user)} user, ${fmtS(fl.startCpuMs.system)} system), stop ${fmtS(fl.stopMs)}
  idle CPU ${fl.idleCpuPctOfCore}% of one core (${fl.idleCpuMsPerSec} ms/s) over ${FLEET.idleMs / 1000} s; per second: ${fl.idleCpuPctPerSecond.join(' ')} (median ${fl.idleCpuPctMedianSecond}%)
  restarts while starting: ${fl.restartsDuringStart}; crashes after start, by cause: ${JSON.stringify(fl.crashesAfterStart)}
  RSS ${fl.rssBeforeMb} MB before → ${fl.rssAfterStartMb} MB after start → ${fl.rssAfterIdleMb} MB after idling: ${fl.rssPerActorMb} MB per actor
${bareFl.workers} bare workers waiting on their port (the floor): started in ${fmtS(bareFl.startMs)}, idle CPU ${bareFl.idleCpuPctOfCore}% of one core (per second: ${bareFl.idleCpuPctPerSecond.join(' ')}), ${bareFl.rssPerWorkerMb} MB RSS each
other processes' share of the machine per phase (%): ${JSON.stringify(other)}${noisy.length ? `\nWARNING: other processes competed for the CPUs during ${noisy.join(', ')}; those numbers are not representative` : ''}

targets:
${check(`crash → ready p50 ≤ ${CRASH_TARGET_MS} ms (standby)`, crash.p50 <= CRASH_TARGET_MS, `${crash.p50} ms`)}
${check(`hang → detected p50 ≤ ${HANG_TARGET_MS} ms`, hangDet.p50 <= HANG_TARGET_MS, `${hangDet.p50} ms`)}
${check(`hang → detected p99 ≤ ${HANG_TARGET_MS} ms`, hangDet.p99 <= HANG_TARGET_MS, `${hangDet.p99} ms`)}
${check(`${fl.actors} idle actors < ${IDLE_TARGET_PCT}% of one core, over the ${FLEET.idleMs / 1000} s window`, fl.idleCpuPctOfCore < IDLE_TARGET_PCT, `${fl.idleCpuPctOfCore}%`)}
${check(`${fl.actors} idle actors < ${IDLE_TARGET_PCT}% of one core, median second`, fl.idleCpuPctMedianSecond < IDLE_TARGET_PCT, `${fl.idleCpuPctMedianSecond}%`)}`);

  const out = {
    crashToReadyMs: pick(crash),
    bareWorkerRespawnMs: pick(bareS),
    hangDetectedMs: pick(hangDet),
    hangToReadyMs: pick(hangReady),
    heartbeatMs: HEARTBEAT.intervalMs,
    start100ActorsMs: fl.startMs,
    idle100CpuPctOfCore: fl.idleCpuPctOfCore,
    rssPerActorMb: fl.rssPerActorMb,
    crashToReadyColdMs: pick(crashCold),
    idle100CpuPctOfCoreMedianSecond: fl.idleCpuPctMedianSecond,
    idle100BareWorkersCpuPctOfCore: bareFl.idleCpuPctOfCore,
    rssPerBareWorkerMb: bareFl.rssPerWorkerMb,
    node: process.version,
    cpus: CPUS,
    date: new Date().toISOString(),
    n: { crashToReady: crash.n, crashToReadyCold: crashCold.n, bareWorkerRespawn: bareS.n, hang: hangDet.n, actors: fl.actors },
    targets: {
      crashToReadyP50: { limitMs: CRASH_TARGET_MS, met: crash.p50 <= CRASH_TARGET_MS },
      hangDetected: { limitMs: HANG_TARGET_MS, metAtP50: hangDet.p50 <= HANG_TARGET_MS, metAtP99: hangDet.p99 <= HANG_TARGET_MS },
      idle100CpuPctOfCore: { limitPct: IDLE_TARGET_PCT, met: fl.idleCpuPctOfCore < IDLE_TARGET_PCT, metAtMedianSecond: fl.idleCpuPctMedianSecond < IDLE_TARGET_PCT },
    },
    details: {
      crashToReadyMs: crash,
      crashToCrashedEventMs: crashEvent,
      crashToReadyColdMs: crashCold,
      crashToReadyColdDirectImportMs: crashColdDirect,
      bareWorkerRespawnMs: bareS,
      hangDetectedMs: hangDet,
      hangReportedSilenceMs: silence,
      hangToReadyMs: hangReady,
      restartsCounted: { standby: sb.restarts, cold: cold.restarts, hang: hang.restarts },
      deadLetters: { standby: sb.deadLetters, cold: cold.deadLetters, hang: hang.deadLetters },
      fleet: fl,
      bareFleet: bareFl,
    },
    plan: { standby: STANDBY, cold: COLD, coldDirect: COLD_DIRECT, bare: BARE, hang: { ...HANG, heartbeat: HEARTBEAT }, fleet: FLEET },
    machine: { otherProcessesLoadPct: other, disturbedPhases: noisy },
    notes: NOTES,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
}

const fmtS = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${f1(x)} ms`);

const NOTES = [
  "Every time runs on the main thread's performance.now(), from just before the fatal message is told to the listener of the event ('crashed' = detected, emitted before the dead worker is terminated; 'restarted' = replacement ready, emitted on the new incarnation's 'ready'). After the last fault the replacement must also answer an ask.",
  `Faults come one at a time, each after the previous replacement was ready plus a pause: ${STANDBY.gapMs} ms with standby (the spare worker is booted again after each restart and must be ready before the next fault, or the restart waits for it), ${COLD.gapMs} ms without. The first ${STANDBY.warmup} faults of each run are not recorded.`,
  "The actor module imports defineActor from the actor entry (src/actor/index.ts, 'ringmaster/actor'). details.crashToReadyColdDirectImportMs is the same cold restart with an actor importing src/actor/define.js directly: the two should match, since the actor entry loads nothing else.",
  `Hangs: heartbeat ${HEARTBEAT.intervalMs} ms × ${HEARTBEAT.misses} misses, standby on, maxRedeliveries 0; the handler spins forever. details.hangReportedSilenceMs is what the watchdog's crash reason says it waited.`,
  'bareWorkerRespawnMs: a worker that throws on any message; on its error event a new Worker starts on the same file; timed to the replacement\'s first message. It loads nothing but node:worker_threads.',
  `start100ActorsMs: await ActorSystem.start() of ${FLEET.actors} children under one one_for_one root (restart intensity raised so a heartbeat miss under CPU starvation is counted, not escalated), standby off, every other option default. idle100CpuPctOfCore: process.cpuUsage() (every thread, user + system) over ${FLEET.idleMs / 1000} s of wall time, ${FLEET.settleMs / 1000} s after start, nothing sent before or during it. Each worker's V8 runs memory-reducing GC rounds (Mark-Compact (reduce)) every ~8 s for a while after it goes quiet, bare workers too; a second that catches one shows as a spike in details.fleet.idleCpuPctPerSecond, and idle100CpuPctOfCoreMedianSecond is the median second. Both figures are for the first idle seconds, not the steady state reached once those rounds have stopped.`,
  `rssPerActorMb: process RSS ${FLEET.settleMs / 1000} s after start minus RSS before start, over ${FLEET.actors}; both read after a full main-thread GC (gc() via --expose-gc set at run time). The workers' heaps are not collected from outside; their RSS is all in the one process.`,
  `idle100BareWorkersCpuPctOfCore, rssPerBareWorkerMb: ${FLEET.actors} workers that only wait on their message port, measured like the actors right after them; memory the actors' workers freed may be reused, so the bare RSS figure can come out low.`,
  'With n = 50 or fewer, p99 is the largest or second-largest sample (hdr-histogram, 3 significant digits).',
];

runBench('supervision', main, RUN_LIMIT_MS);
