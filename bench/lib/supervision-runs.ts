/**
 * The supervision measures. Each runs on a system (or bare worker) of its own,
 * started and stopped inside the measure, so no measure inherits another's
 * workers.
 */
import { Worker } from 'node:worker_threads';
import { ActorSystem, type ChildSpec, type SystemEvent, type SystemOptions } from '../../src/index.js';
import type { BenchMsg } from '../actors/bench-actor.js';
import { track } from './peer.js';

export const BENCH_ACTOR = new URL('../actors/bench-actor.js', import.meta.url).href;
export const BENCH_ACTOR_DIRECT = new URL('../actors/bench-actor-direct.js', import.meta.url).href;
/** A bare worker: reports once running, idles, and dies of an uncaught exception on any message. */
export const BARE_CRASHER = new URL('../workers/bare-crasher.js', import.meta.url);
/** Longer than any restart here takes: a wait this long means the measure hung, so it fails instead. */
const EVENT_TIMEOUT_MS = 10_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

export const options = (tree: SystemOptions['tree']): SystemOptions => ({ name: 'bench-supervision', log: { level: 'silent' }, tree });

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
