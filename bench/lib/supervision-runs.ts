/**
 * The supervision measures. Each runs on a system (or bare worker) of its own,
 * started and stopped inside the measure, so no measure inherits another's
 * workers.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { ActorSystem, type ChildSpec, type SystemEvent, type SystemOptions } from '../../src/index.js';
import type { BenchMsg } from '../actors/bench-actor.js';
import { track } from './peer.js';
import { round2 } from './stats.js';

export const BENCH_ACTOR = new URL('../actors/bench-actor.js', import.meta.url).href;
export const BENCH_ACTOR_DIRECT = new URL('../actors/bench-actor-direct.js', import.meta.url).href;
const BARE_CRASHER = new URL('../workers/bare-crasher.js', import.meta.url);
/** Longer than any restart here takes: a wait this long means the measure hung, so it fails instead. */
const EVENT_TIMEOUT_MS = 10_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

setFlagsFromString('--expose-gc');
/** The main thread's full GC, without needing --expose-gc on the command line. */
const gc = runInNewContext('gc') as () => void;

type Timed<E> = Promise<{ t: number; e: E }>;

/** performance.now() at the next `type` event of `actor` (the event's own `at` is Date.now(), whole ms). */
function next<T extends 'crashed' | 'restarted'>(system: ActorSystem, type: T, actor: string): Timed<Extract<SystemEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${type}' event of '${actor}' within ${EVENT_TIMEOUT_MS} ms`));
    }, EVENT_TIMEOUT_MS);
    const off = system.on(type, (e) => {
      const ev = e as Extract<SystemEvent, { type: T }>;
      if ((ev as { actor?: string }).actor !== actor) return;
      const t = performance.now();
      clearTimeout(timer);
      off();
      resolve({ t, e: ev });
    });
  });
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${EVENT_TIMEOUT_MS} ms`)), EVENT_TIMEOUT_MS)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

const options = (tree: SystemOptions['tree']): SystemOptions => ({ name: 'bench-supervision', log: { level: 'silent' }, tree });

export interface FaultPlan {
  /** Faults recorded, after `warmup` unrecorded ones (first-time code paths on the main thread). */
  count: number;
  warmup: number;
  /** Pause after each replacement is ready: long enough for a standby spare to boot again. */
  gapMs: number;
}

export interface FaultSamples {
  toCrashedMs: number[];
  toReadyMs: number[];
  /** What the watchdog said it saw: ms of silence before it declared the hang. */
  reportedSilenceMs: number[];
  restarts: number;
  deadLetters: number;
}

/**
 * Injects faults into one actor, one at a time, and times its 'crashed' and
 * 'restarted' events from the moment the fatal message is told.
 */
export async function faultLoop(child: Partial<ChildSpec>, op: 'throw' | 'spin', expectCause: string, plan: FaultPlan): Promise<FaultSamples> {
  const tree = { id: 'root', strategy: 'one_for_one' as const, intensity: 100_000, period: 1000, children: [{ id: 'c', module: BENCH_ACTOR, maxRedeliveries: 0, ...child }] };
  const system = await ActorSystem.start(options(tree));
  const out: FaultSamples = { toCrashedMs: [], toReadyMs: [], reportedSilenceMs: [], restarts: 0, deadLetters: 0 };
  try {
    const ref = system.ref<BenchMsg>('c');
    for (let i = 0; i < plan.warmup + plan.count; i++) {
      await sleep(plan.gapMs);
      const crashed = next(system, 'crashed', 'c');
      const ready = next(system, 'restarted', 'c');
      const t0 = performance.now();
      ref.tell({ op });
      const [c, r] = await Promise.all([crashed, ready]);
      if (c.e.cause !== expectCause) throw new Error(`expected a crash with cause '${expectCause}', got '${c.e.cause}': ${c.e.reason}`);
      if (i < plan.warmup) continue;
      out.toCrashedMs.push(c.t - t0);
      out.toReadyMs.push(r.t - t0);
      const silent = /no heartbeat for (\d+) ms/.exec(c.e.reason);
      if (silent) out.reportedSilenceMs.push(Number(silent[1]));
    }
    // The last replacement must serve mail, not only have reported ready.
    const echoed = await ref.ask({ op: 'echo', value: 'alive' }, { timeout: 5000 });
    if (echoed !== 'alive') throw new Error(`replacement answered ${JSON.stringify(echoed)}`);
    out.restarts = system.status().find((s) => s.id === 'c')?.restarts ?? 0;
    out.deadLetters = system.deadLetterCount;
    return out;
  } finally {
    await system.stop();
  }
}

/**
 * The same fault with nothing but worker_threads: the worker dies of an
 * uncaught exception, and its 'error' event starts a new Worker on the same
 * file. Timed from the fatal message to the replacement's first message.
 */
export async function bareRespawnLoop(plan: FaultPlan): Promise<number[]> {
  const spawn = (): { w: Worker; ready: Promise<number> } => {
    const w = track(new Worker(BARE_CRASHER));
    const ready = new Promise<number>((resolve, reject) => {
      w.once('message', () => resolve(performance.now()));
      w.once('error', reject);
    });
    return { w, ready };
  };
  let cur = spawn();
  await withTimeout(cur.ready, 'bare worker boot');
  const out: number[] = [];
  for (let i = 0; i < plan.warmup + plan.count; i++) {
    await sleep(plan.gapMs);
    const old = cur.w;
    const exited = new Promise((r) => old.once('exit', r));
    const replaced = new Promise<ReturnType<typeof spawn>>((resolve) => old.once('error', () => resolve(spawn())));
    const t0 = performance.now();
    old.postMessage('die');
    cur = await withTimeout(replaced, 'bare worker error');
    const t = await withTimeout(cur.ready, 'bare worker respawn');
    await withTimeout(exited, 'bare worker exit');
    if (i >= plan.warmup) out.push(t - t0);
  }
  await cur.w.terminate();
  return out;
}

export interface FleetPlan {
  actors: number;
  /** Quiet time after start before memory and CPU are read. */
  settleMs: number;
  idleMs: number;
}

export interface FleetResult {
  actors: number;
  startMs: number;
  /** CPU the process (every thread) used while start() ran: mostly the workers loading their modules. */
  startCpuMs: { user: number; system: number };
  stopMs: number;
  idleCpuPctOfCore: number;
  idleCpuMsPerSec: number;
  /** The same, second by second: shows a transient (a GC round in the workers) apart from the steady state. */
  idleCpuPctPerSecond: number[];
  idleCpuPctMedianSecond: number;
  rssBeforeMb: number;
  rssAfterStartMb: number;
  rssAfterIdleMb: number;
  rssPerActorMb: number;
  /** Restarts while start() ran, and crashes (by cause) from then until the idle window ended. */
  restartsDuringStart: number;
  crashesAfterStart: Record<string, number>;
}

const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;

async function settledRssMb(ms: number): Promise<number> {
  gc();
  await sleep(ms);
  gc();
  return rssMb();
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
  let idle: Awaited<ReturnType<typeof idleFleet>>;
  let stopMs: number;
  try {
    idle = await idleFleet(system, ids, plan);
  } finally {
    off();
    const s0 = performance.now();
    await system.stop();
    stopMs = performance.now() - s0;
  }
  return {
    actors: plan.actors,
    startMs: round2(startMs),
    startCpuMs: { user: round2(startCpu.user / 1000), system: round2(startCpu.system / 1000) },
    stopMs: round2(stopMs),
    idleCpuPctOfCore: round2((idle.cpuMs / idle.wallMs) * 100),
    idleCpuMsPerSec: round2((idle.cpuMs / idle.wallMs) * 1000),
    idleCpuPctPerSecond: idle.perSecondPct,
    idleCpuPctMedianSecond: [...idle.perSecondPct].sort((a, b) => a - b)[idle.perSecondPct.length >> 1]!,
    rssBeforeMb: round2(rssBeforeMb),
    rssAfterStartMb: round2(idle.rssAfterStartMb),
    rssAfterIdleMb: round2(idle.rssAfterIdleMb),
    rssPerActorMb: round2((idle.rssAfterStartMb - rssBeforeMb) / plan.actors),
    restartsDuringStart,
    crashesAfterStart,
  };
}

interface IdleReading {
  cpuMs: number;
  wallMs: number;
  perSecondPct: number[];
  rssAfterStartMb: number;
  rssAfterIdleMb: number;
}

async function idleFleet(system: ActorSystem, ids: string[], plan: FleetPlan): Promise<IdleReading> {
  const rssAfterStartMb = await settledRssMb(plan.settleMs);
  // Nothing is sent before the idle window: the fleet is exactly as start left it.
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const perSecondPct: number[] = [];
  for (let left = plan.idleMs; left > 0; left -= 1000) {
    const c = process.cpuUsage();
    const w = performance.now();
    await sleep(Math.min(1000, left));
    const d = process.cpuUsage(c);
    perSecondPct.push(round2(((d.user + d.system) / 1000 / (performance.now() - w)) * 100));
  }
  const cpu = process.cpuUsage(c0);
  const wallMs = performance.now() - w0;
  const rssAfterIdleMb = await settledRssMb(100);
  const answers = await Promise.all(ids.map((id, i) => system.ref<BenchMsg>(id).ask({ op: 'echo', value: i }, { timeout: 5000 })));
  if (answers.some((a, i) => a !== i)) throw new Error('an idle actor answered wrong');
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, perSecondPct, rssAfterStartMb, rssAfterIdleMb };
}
