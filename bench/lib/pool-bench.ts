/**
 * A pool actor against piscina used directly: the same task module, the same
 * thread count and queue bound, the same number of calls in flight from the
 * main thread. The pool actor adds the actor layer around piscina: the ask
 * travels through the actor's inbox ring, the main thread's reader hands it to
 * piscina, the result comes back as a reply.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ActorSystem } from '../../src/index.js';
import sum, { type SumTask } from '../workers/sum-task.js';
import { now } from './clock.js';
import type { RpcClient } from './rpc-bench.js';
import { round2, summarize, type LatencySummary } from './stats.js';

const SUM_TASK = new URL('../workers/sum-task.js', import.meta.url);

export interface PoolPlan {
  threads: number;
  /** Calls outstanding at once (each lane awaits its own); also each pool's queue bound. */
  inFlight: number;
  /** Numbers summed per task. */
  taskN: number;
  warmMs: number;
  ms: number;
  /** Recorded runs per side; the sides alternate and take turns going first. */
  reps: number;
  /** One call in flight, after each run: `seqWarm` unrecorded calls, then a share of `seqCount` recorded ones. */
  seqWarm: number;
  seqCount: number;
}

export interface PoolSide {
  /** Median of the runs. */
  tasksPerSec: number;
  runs: number[];
  /** Per-call latency with `inFlight` outstanding, every recorded run together (queueing included). */
  latency: LatencySummary;
  /** One call at a time. */
  sequential: LatencySummary;
}

export interface PoolComparison {
  /** The task alone, run on the main thread: median µs. */
  taskUs: number;
  pool: PoolSide;
  piscina: PoolSide;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Completed calls per second during `ms` with `inFlight` lanes, and each call's latency, µs. */
async function lanes(client: RpcClient, inFlight: number, ms: number): Promise<{ perSec: number; latencyUs: number[] }> {
  const latencyUs: number[] = [];
  let seq = 0;
  const start = now();
  const end = start + ms;
  const lane = async (): Promise<void> => {
    while (now() < end) {
      const t = now();
      await client.call(seq++);
      latencyUs.push((now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { perSec: latencyUs.length / ((now() - start) / 1000), latencyUs };
}

/** One call at a time, `count` calls recorded after `warm`; appended to `us`. */
async function sequential(client: RpcClient, warm: number, count: number, us: number[]): Promise<void> {
  for (let i = 0; i < warm; i++) await client.call(i);
  for (let i = 0; i < count; i++) {
    const t = now();
    await client.call(i);
    us.push((now() - t) * 1000);
  }
}

function taskCostUs(n: number): number {
  const us: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = now();
    sum({ n, seed: i });
    if (i >= 1000) us.push((now() - t) * 1000);
  }
  return round2(median(us));
}

export async function poolVsPiscina(plan: PoolPlan): Promise<PoolComparison> {
  const limits = { minThreads: plan.threads, maxThreads: plan.threads, maxQueue: plan.inFlight, idleTimeout: 60_000 };
  const system = await ActorSystem.start({
    name: 'bench-patterns-pool',
    log: { level: 'silent' },
    tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'sum', pool: { module: SUM_TASK.href, ...limits } }] },
  });
  const piscina = new Piscina({ filename: fileURLToPath(SUM_TASK), ...limits });
  const task = (seed: number): SumTask => ({ n: plan.taskN, seed });
  const ref = system.ref<SumTask>('sum');
  const clients = {
    pool: { call: (seq: number) => ref.ask<number>(task(seq)), close: async () => {} },
    piscina: { call: (seq: number) => piscina.run(task(seq)) as Promise<number>, close: () => piscina.destroy() },
  } satisfies Record<string, RpcClient>;
  const sides = ['piscina', 'pool'] as const;
  try {
    for (const s of sides) {
      const [got, want] = [await clients[s].call(11), sum(task(11))];
      if (got !== want) throw new Error(`${s}: task answered ${got}, expected ${want}`);
      await lanes(clients[s], plan.inFlight, plan.warmMs);
    }
    const runs = { pool: [] as number[], piscina: [] as number[] };
    const latency = { pool: [] as number[], piscina: [] as number[] };
    const seq = { pool: [] as number[], piscina: [] as number[] };
    for (let rep = 0; rep < plan.reps; rep++) {
      for (const s of rep % 2 === 0 ? sides : [...sides].reverse()) {
        const r = await lanes(clients[s], plan.inFlight, plan.ms);
        runs[s].push(Math.round(r.perSec));
        latency[s].push(...r.latencyUs);
        await sequential(clients[s], plan.seqWarm, Math.ceil(plan.seqCount / plan.reps), seq[s]);
      }
    }
    const side = (s: (typeof sides)[number]): PoolSide => ({
      tasksPerSec: Math.round(median(runs[s])),
      runs: runs[s],
      latency: summarize(latency[s]),
      sequential: summarize(seq[s]),
    });
    return { taskUs: taskCostUs(plan.taskN), pool: side('pool'), piscina: side('piscina') };
  } finally {
    await clients.piscina.close();
    await system.stop();
  }
}
