/**
 * Many idle actors at once: how long they take to start and what they cost
 * while nothing happens (CPU of every thread, RSS), next to as many bare idle
 * workers, which is the floor Node itself sets on this machine.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { ActorSystem } from '../../src/index.js';
import type { BenchMsg } from '../actors/bench-actor.js';
import { track } from './peer.js';
import { round2 } from './stats.js';
import { BARE_CRASHER, BENCH_ACTOR, options, sleep } from './supervision-runs.js';

setFlagsFromString('--expose-gc');
/** The main thread's full GC, without needing --expose-gc on the command line. */
const gc = runInNewContext('gc') as () => void;

export interface FleetPlan {
  actors: number;
  /** Quiet time after start before memory and CPU are read. */
  settleMs: number;
  idleMs: number;
}

export interface IdleCpu {
  idleCpuPctOfCore: number;
  idleCpuMsPerSec: number;
  /** The same, second by second: shows a transient (a GC round in the workers) apart from the steady state. */
  idleCpuPctPerSecond: number[];
  idleCpuPctMedianSecond: number;
}

export interface FleetResult extends IdleCpu {
  actors: number;
  startMs: number;
  /** CPU the process (every thread) used while start() ran: mostly the workers loading their modules. */
  startCpuMs: { user: number; system: number };
  stopMs: number;
  rssBeforeMb: number;
  rssAfterStartMb: number;
  rssAfterIdleMb: number;
  rssPerActorMb: number;
  /** Restarts while start() ran, and crashes (by cause) from then until the idle window ended. */
  restartsDuringStart: number;
  crashesAfterStart: Record<string, number>;
}

export interface BareFleetResult extends IdleCpu {
  workers: number;
  startMs: number;
  rssPerWorkerMb: number;
}

const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;

/** RSS after a full GC of the main thread and `ms` of quiet, MB. */
export async function settledRssMb(ms: number): Promise<number> {
  gc();
  await sleep(ms);
  gc();
  return rssMb();
}

/** process.cpuUsage() (every thread of the process) over `ms` of wall time, as a share of one core. */
async function idleCpu(ms: number): Promise<IdleCpu> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const perSecond: number[] = [];
  for (let left = ms; left > 0; left -= 1000) {
    const c = process.cpuUsage();
    const w = performance.now();
    await sleep(Math.min(1000, left));
    const d = process.cpuUsage(c);
    perSecond.push(round2(((d.user + d.system) / 1000 / (performance.now() - w)) * 100));
  }
  const cpu = process.cpuUsage(c0);
  const share = (cpu.user + cpu.system) / 1000 / (performance.now() - w0);
  return {
    idleCpuPctOfCore: round2(share * 100),
    idleCpuMsPerSec: round2(share * 1000),
    idleCpuPctPerSecond: perSecond,
    idleCpuPctMedianSecond: [...perSecond].sort((a, b) => a - b)[perSecond.length >> 1]!,
  };
}

/** Start `actors` echo actors under one supervisor; time it, then read the idle fleet's CPU and memory. */
export async function fleet(plan: FleetPlan): Promise<FleetResult> {
  const ids = Array.from({ length: plan.actors }, (_, i) => `echo-${i}`);
  const children = ids.map((id) => ({ id, module: BENCH_ACTOR, standby: false }));
  const rssBeforeMb = await settledRssMb(300);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  // A starved machine can make idle actors miss heartbeats; a generous budget keeps the root from
  // escalating (and the system from stopping) over that, and the crashes are reported instead.
  const system = await ActorSystem.start(options({ id: 'root', strategy: 'one_for_one', intensity: 100_000, period: 1000, children }));
  const startMs = performance.now() - t0;
  const startCpu = process.cpuUsage(c0);
  const restartsDuringStart = system.status().reduce((n, s) => n + s.restarts, 0);
  const crashesAfterStart: Record<string, number> = {};
  const off = system.on('crashed', (e) => (crashesAfterStart[e.cause] = (crashesAfterStart[e.cause] ?? 0) + 1));
  let idle: IdleCpu & { rssAfterStartMb: number; rssAfterIdleMb: number };
  let stopMs: number;
  try {
    const rssAfterStartMb = await settledRssMb(plan.settleMs);
    // Nothing is sent before the idle window: the fleet is exactly as start left it.
    const cpu = await idleCpu(plan.idleMs);
    const rssAfterIdleMb = await settledRssMb(100);
    const answers = await Promise.all(ids.map((id, i) => system.ref<BenchMsg>(id).ask({ op: 'echo', value: i }, { timeout: 5000 })));
    if (answers.some((a, i) => a !== i)) throw new Error('an idle actor answered wrong');
    idle = { ...cpu, rssAfterStartMb, rssAfterIdleMb };
  } finally {
    off();
    const s0 = performance.now();
    await system.stop();
    stopMs = performance.now() - s0;
  }
  const { rssAfterStartMb, rssAfterIdleMb, ...cpu } = idle;
  return {
    actors: plan.actors,
    startMs: round2(startMs),
    startCpuMs: { user: round2(startCpu.user / 1000), system: round2(startCpu.system / 1000) },
    stopMs: round2(stopMs),
    ...cpu,
    rssBeforeMb: round2(rssBeforeMb),
    rssAfterStartMb: round2(rssAfterStartMb),
    rssAfterIdleMb: round2(rssAfterIdleMb),
    rssPerActorMb: round2((rssAfterStartMb - rssBeforeMb) / plan.actors),
    restartsDuringStart,
    crashesAfterStart,
  };
}

/** As many workers that only wait on their port (no timers, no modules), measured the same way. */
export async function bareFleet(plan: FleetPlan): Promise<BareFleetResult> {
  const rssBeforeMb = await settledRssMb(300);
  const t0 = performance.now();
  const workers = Array.from({ length: plan.actors }, () => track(new Worker(BARE_CRASHER)));
  try {
    const up = (w: Worker): Promise<void> =>
      new Promise((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
    await Promise.all(workers.map(up));
    const startMs = performance.now() - t0;
    const rssAfterStartMb = await settledRssMb(plan.settleMs);
    const cpu = await idleCpu(plan.idleMs);
    return { workers: plan.actors, startMs: round2(startMs), ...cpu, rssPerWorkerMb: round2((rssAfterStartMb - rssBeforeMb) / plan.actors) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
