/**
 * The scale benchmark's core: each topology built with ringmaster actors and
 * with plain postMessage workers, one side after the other (ringmaster
 * first), each side started, warmed up, run `runs` times and stopped
 * before the next starts, so the RSS and CPU of one side never include the
 * other's threads. bench/scale.ts runs it at full size; the smoke test in
 * test/integration/scale.test.ts at a tiny one.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { settledRssMb } from './fleet.js';
import { withOtherLoad } from './machine.js';
import { track } from './peer.js';
import { stamp } from './scale-node.js';
import { actorRig, portRig, type Rig } from './scale-rigs.js';
import { fanIn, pipeline, randomPairs, type FanInPlan, type PipelinePlan, type RandomPlan, type Topology, type TopologyName } from './scale-topology.js';
import { round2, summarize } from './stats.js';
import { BARE_CRASHER } from './supervision-runs.js';

export interface ScalePlan {
  fanIn: FanInPlan;
  pipeline: PipelinePlan;
  random: RandomPlan;
  /** Recorded runs per topology and side. */
  runs: number;
  /**
   * Unrecorded runs before them: at least `warmUps` (1 or more) and until
   * `warmUpMs` have passed, whichever comes later, the same rule for both
   * sides. Each worker's V8 compiles the hot path for itself, and
   * ringmaster's is JavaScript (postMessage's is mostly native): 100 fan-in
   * senders of 500 messages a run need some 20 runs before their code is
   * optimized, and until then V8's compiler threads take more CPU than the
   * messages do. A count of runs cannot say that for every size; a time can.
   */
  warmUps: number;
  warmUpMs: number;
  /**
   * And then until the side is steady, the same rule for both: the last
   * STEADY_RUNS (5) warm-ups set no delivered rate more than STEADY_GAIN (10 %) above
   * the best before them; but no longer than this, ms (the runs are then
   * recorded as they are, and `steady` says so).
   */
  warmUpMaxMs: number;
  /** A run that has not delivered everything by then failed. */
  runTimeoutMs: number;
  /** Quiet time after a full GC before RSS is read, ms. */
  settleMs: number;
  /** The ringmaster systems' spinMicros; undefined keeps the default. */
  spinMicros?: number;
}

/** The figures the brief fixes, per side: medians over the recorded runs. */
export interface Figures {
  deliveredPerSec: number;
  p50Us: number;
  p99Us: number;
  cpuUsPerMsg: number;
  rssPerActorMb: number;
}

export interface RunFigures {
  expected: number;
  delivered: number;
  /** Go told → last message recorded, ms. */
  ms: number;
  deliveredPerSec: number;
  p50Us: number;
  p99Us: number;
  cpuUsPerMsg: number;
}

export interface SideResult extends Figures {
  actors: number;
  startMs: number;
  /** (RSS after the runs − RSS before start) / actors: rings and queues made by the traffic included. */
  rssPerActorAfterRunsMb: number;
  crashes: number;
  /** Share of the machine other processes took while this side ran, %. */
  otherLoadPct: number;
  warmUps: RunFigures[];
  /** The warm-ups ended with the side steady (not cut at warmUpMaxMs). */
  steady: boolean;
  /** The first full-size run, before any warm-up: what a just-started system delivers. */
  cold: RunFigures;
  runs: RunFigures[];
}

export interface TopologyResult {
  topology: TopologyName;
  actors: number;
  /** Offered rate, msgs/s (0: flat out). */
  offeredPerSec: number;
  ringmaster: SideResult;
  postMessage: SideResult;
  /** ringmaster ÷ postMessage. */
  ratios: { deliveredPerSec: number; p99Us: number; cpuUsPerMsg: number; rssPerActorMb: number };
}

export interface ScaleResult {
  node: string;
  cpus: number;
  date: string;
  runs: number;
  /** ActorSystem.start of the random-pairs actors (`startActors` of them, 200 by default). */
  startMs200: number;
  /** As many bare workers (they load nothing and post one message) up. */
  bareStartMs200: number;
  startActors: number;
  results: TopologyResult[];
}

export type Log = (line: string) => void;

/** However short the runs, no more warm-ups than this per side. */
const MAX_WARM_UPS = 200;
/** Steady: this many warm-ups in a row that set no new best delivered rate by more than STEADY_GAIN. */
const STEADY_RUNS = 5;
const STEADY_GAIN = 1.1;

/** Have the last STEADY_RUNS warm-ups stopped improving on the best before them? */
export function steadyAfter(rates: number[]): boolean {
  if (rates.length <= STEADY_RUNS) return false;
  const before = Math.max(...rates.slice(0, -STEADY_RUNS));
  return Math.max(...rates.slice(-STEADY_RUNS)) <= before * STEADY_GAIN;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function runOnce(rig: Rig, t: Topology, k: number, timeoutMs: number): Promise<RunFigures> {
  const { commands, expect } = t.run(k);
  await rig.arm(expect);
  const recorders = [...expect].filter(([, n]) => n > 0).map(([i]) => i);
  const done = rig.done(recorders, timeoutMs);
  const c0 = process.cpuUsage();
  const t0 = stamp();
  rig.go(commands);
  const reports = await done;
  const cpu = process.cpuUsage(c0);
  const expected = [...expect.values()].reduce((s, n) => s + n, 0);
  const delivered = reports.reduce((s, r) => s + r.count, 0);
  if (delivered !== expected) throw new Error(`${rig.side} ${t.name} run ${k}: ${delivered} delivered, ${expected} expected`);
  const ms = Math.max(...reports.map((r) => r.lastAt)) - t0;
  const parts = await rig.samples(recorders);
  const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  if (all.length !== delivered) throw new Error(`${rig.side} ${t.name} run ${k}: ${all.length} latencies for ${delivered} messages`);
  const lat = summarize(all);
  return {
    expected,
    delivered,
    ms: round2(ms),
    deliveredPerSec: Math.round(delivered / (ms / 1000)),
    p50Us: lat.p50,
    p99Us: lat.p99,
    cpuUsPerMsg: round2((cpu.user + cpu.system) / delivered),
  };
}

async function side(t: Topology, make: (t: Topology) => Promise<Rig>, plan: ScalePlan, log: Log): Promise<SideResult> {
  const actors = t.roles.length;
  const rssBefore = await settledRssMb(plan.settleMs);
  const rig = await make(t);
  try {
    const rssAfterStart = await settledRssMb(plan.settleMs);
    log(`  ${rig.side}: ${actors} ${rig.side === 'ringmaster' ? 'actors' : 'workers'} up in ${(rig.startMs / 1000).toFixed(1)} s`);
    const measured = await withOtherLoad(availableParallelism(), async () => {
      const warmUps: RunFigures[] = [];
      const started = performance.now();
      // Random pairs' run 0 only wires the pairs: it is no measure of anything.
      const full = (): RunFigures[] => (t.name.startsWith('random-pairs') ? warmUps.slice(1) : warmUps);
      let steady = false;
      for (let k = 0; k > -MAX_WARM_UPS; k--) {
        const elapsed = performance.now() - started;
        if (k <= -plan.warmUps && elapsed >= plan.warmUpMs) {
          steady = steadyAfter(full().map((r) => r.deliveredPerSec));
          if (steady || elapsed >= plan.warmUpMaxMs) break;
        }
        warmUps.push(await runOnce(rig, t, k, plan.runTimeoutMs));
      }
      const runs: RunFigures[] = [];
      for (let k = 1; k <= plan.runs; k++) runs.push(await runOnce(rig, t, k, plan.runTimeoutMs));
      return { warmUps, runs, steady, cold: full()[0] ?? warmUps[0]! };
    });
    const { warmUps, runs, steady, cold } = measured.value;
    log(`  ${rig.side}: ${warmUps.length} warm-ups, ${steady ? 'steady' : 'NOT steady (cut at the warm-up limit)'}; cold run ${cold.deliveredPerSec} delivered/s`);
    log(`  ${rig.side}: delivered/s ${runs.map((r) => r.deliveredPerSec).join(', ')}; p99 µs ${runs.map((r) => r.p99Us).join(', ')}`);
    const rssAfterRuns = await settledRssMb(plan.settleMs);
    return {
      deliveredPerSec: Math.round(median(runs.map((r) => r.deliveredPerSec))),
      p50Us: round2(median(runs.map((r) => r.p50Us))),
      p99Us: round2(median(runs.map((r) => r.p99Us))),
      cpuUsPerMsg: round2(median(runs.map((r) => r.cpuUsPerMsg))),
      rssPerActorMb: round2((rssAfterStart - rssBefore) / actors),
      actors,
      startMs: rig.startMs,
      rssPerActorAfterRunsMb: round2((rssAfterRuns - rssBefore) / actors),
      crashes: rig.crashes(),
      otherLoadPct: measured.otherLoadPct,
      warmUps,
      steady,
      cold,
      runs,
    };
  } finally {
    await rig.stop();
  }
}

/** `n` workers that load nothing, from the first launched to the last one's first message, ms. */
async function bareStart(n: number): Promise<number> {
  const t0 = performance.now();
  const workers = Array.from({ length: n }, () => track(new Worker(BARE_CRASHER)));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
          }),
      ),
    );
    return round2(performance.now() - t0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const ratio = (a: number, b: number): number => round2(a / b);

export async function runScale(plan: ScalePlan, log: Log = () => {}): Promise<ScaleResult> {
  if (!(plan.runs >= 1)) throw new Error(`runs must be at least 1, got ${plan.runs}`);
  if (!(plan.warmUps >= 2)) throw new Error(`warmUps must be at least 2 (the first wires the random pairs), got ${plan.warmUps}`);
  log(`${plan.random.actors} bare workers …`);
  const bareStartMs = await bareStart(plan.random.actors);
  const results: TopologyResult[] = [];
  for (const t of [fanIn(plan.fanIn), pipeline(plan.pipeline), randomPairs(plan.random), randomPairs(plan.random, true)]) {
    log(`${t.name}: ${t.roles.length} nodes …`);
    const ringmaster = await side(t, (x) => actorRig(x, plan.spinMicros), plan, log);
    const postMessage = await side(t, portRig, plan, log);
    results.push({
      topology: t.name,
      actors: t.roles.length,
      offeredPerSec: t.ratePerSec,
      ringmaster,
      postMessage,
      ratios: {
        deliveredPerSec: ratio(ringmaster.deliveredPerSec, postMessage.deliveredPerSec),
        p99Us: ratio(ringmaster.p99Us, postMessage.p99Us),
        cpuUsPerMsg: ratio(ringmaster.cpuUsPerMsg, postMessage.cpuUsPerMsg),
        rssPerActorMb: ratio(ringmaster.rssPerActorMb, postMessage.rssPerActorMb),
      },
    });
  }
  return {
    node: process.version,
    cpus: availableParallelism(),
    date: new Date().toISOString(),
    runs: plan.runs,
    startMs200: results.find((r) => r.topology === 'random-pairs')!.ringmaster.startMs,
    bareStartMs200: bareStartMs,
    startActors: plan.random.actors,
    results,
  };
}
