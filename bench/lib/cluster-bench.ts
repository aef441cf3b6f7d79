/**
 * The measurements of bench:cluster, one "way" at a time: an ask (or a raw
 * NATS request) awaited one after another for the round trip, and tells (or
 * raw publishes) sent flat out — in batches, yielding to the event loop
 * between them, since on a node the main thread both sends and forwards —
 * until the far end has counted every one.
 */
import { now } from './clock.js';
import { tick } from './payload.js';
import { summarize, type LatencySummary } from './stats.js';

/** The raw NATS subjects of the far end (bench/lib/cluster-node.ts). */
export const RAW = { request: 'bench.raw.req', publish: 'bench.raw.pub', count: 'bench.raw.count', cpu: 'bench.raw.cpu' };

/** CPU time (user + system) each node process has used so far, µs: this one (`near`) and the far one. */
export type CpuProbe = () => Promise<{ near: number; far: number }>;

export type Way = 'ringmaster-remote' | 'nats-raw' | 'ringmaster-local';

/** One way to reach the far end: a request/response and a one-way send of the same tick, and the far end's count of what it got. */
export interface Ends {
  ask(msg: unknown): Promise<unknown>;
  tell(msg: unknown): void;
  count(): Promise<number>;
}

export interface ClusterPlan {
  rttWarm: number;
  rttCount: number;
  floodWarm: number;
  floodCount: number;
  /** Messages sent before each turn of the event loop. */
  batch: number;
  /** Longest the far end may take to count a flood, ms. */
  floodLimitMs: number;
}

export interface WayMeasurement {
  way: Way;
  rtt: LatencySummary;
  throughputPerSec: number;
  /** What the far end counted of the flood (all of it, or the benchmark fails). */
  delivered: number;
  /** CPU of each node process per message, µs: during the flood (a tell) and during the round trips (an ask and its answer). */
  cpuUs: { tell: { near: number; far: number }; ask: { near: number; far: number } };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function rtt(e: Ends, warm: number, count: number): Promise<LatencySummary> {
  for (let i = 0; i < warm; i++) await e.ask(tick(i, 0));
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = now();
    await e.ask(tick(i, t0));
    samples[i] = (now() - t0) * 1000;
  }
  return summarize(samples);
}

/** `n` tells flat out; resolves with msgs/s from the first send to the far end's count of the last. */
async function flood(e: Ends, n: number, plan: ClusterPlan): Promise<{ perSec: number; delivered: number }> {
  const base = await e.count();
  const t0 = now();
  for (let i = 0; i < n; i++) {
    e.tell(tick(i, 0));
    if ((i + 1) % plan.batch === 0) await turn();
  }
  const deadline = Date.now() + plan.floodLimitMs;
  let got: number;
  while ((got = (await e.count()) - base) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const ms = now() - t0;
  return { perSec: Math.round((got / ms) * 1000), delivered: got };
}

/** CPU per message between two probes, µs (one decimal). */
function perMessage(a: { near: number; far: number }, b: { near: number; far: number }, n: number): { near: number; far: number } {
  return { near: Math.round(((b.near - a.near) / n) * 10) / 10, far: Math.round(((b.far - a.far) / n) * 10) / 10 };
}

export async function measureWay(way: Way, e: Ends, plan: ClusterPlan, cpu: CpuProbe): Promise<WayMeasurement> {
  await flood(e, plan.floodWarm, plan);
  const c0 = await cpu();
  const f = await flood(e, plan.floodCount, plan);
  const c1 = await cpu();
  if (f.delivered < plan.floodCount) throw new Error(`${way}: the far end counted ${f.delivered} of ${plan.floodCount} messages in ${plan.floodLimitMs} ms`);
  const r = await rtt(e, plan.rttWarm, plan.rttCount);
  const c2 = await cpu();
  // The round trips' CPU includes their warm-up asks.
  const cpuUs = { tell: perMessage(c0, c1, plan.floodCount), ask: perMessage(c1, c2, plan.rttWarm + plan.rttCount) };
  return { way, rtt: r, throughputPerSec: f.perSec, delivered: f.delivered, cpuUs };
}
