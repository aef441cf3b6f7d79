/**
 * Fan-out: one publisher, n subscribers that count what they get. Ringmaster
 * runs it twice over the same actors, as topic publishes (ctx.publish) and as
 * the same fan-out by hand (ctx.send to each subscriber), and the baseline is
 * plain workers with a MessagePort from the sender to each receiver.
 *
 * A run's clock starts on the main thread just before the first message is
 * asked for and stops at the latest last-tick time the subscribers report
 * (performance.now() is one time line across threads; see clock.ts).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { ActorSystem, type ChildSpec } from '../../src/index.js';
import type { FanOutMode, PublisherMsg } from '../actors/fanout-publisher.js';
import { DONE_SUBJECT, type CounterDone, type CounterMsg } from '../actors/fanout-counter.js';
import type { ReceiverCommand, ReceiverReport } from '../workers/fanout-port-receiver.js';
import type { SenderCommand, SenderReport } from '../workers/fanout-port-sender.js';
import { now } from './clock.js';
import { Peer } from './peer.js';
import { round2 } from './stats.js';

const PUBLISHER = new URL('../actors/fanout-publisher.js', import.meta.url).href;
const COUNTER = new URL('../actors/fanout-counter.js', import.meta.url).href;
const PORT_SENDER = new URL('../workers/fanout-port-sender.js', import.meta.url);
const PORT_RECEIVER = new URL('../workers/fanout-port-receiver.js', import.meta.url);

export interface FanOutPlan {
  /** Subscriber counts; each has a subject of its own that exactly that many subscribers follow. */
  groups: number[];
  /** Publishes per recorded run, by subscriber count (deliveries = publishes × subscribers). */
  publishes: Record<number, number>;
  /** Share of `publishes` sent once, unrecorded, before a group's recorded runs. */
  warmShare: number;
  /** Recorded runs per group and way of fanning out. */
  reps: number;
  /** Ticks per 'burst' ask to the publisher, and how many such asks are outstanding at once. */
  burst: number;
  burstsInFlight: number;
  /** A run that has not delivered everything by then failed (something was lost). */
  runTimeoutMs: number;
}

export interface FanOutRun {
  publishes: number;
  delivered: number;
  /** First message asked for → the last subscriber's last tick. */
  deliverMs: number;
  /** First message asked for → the publisher has handed every message over (ringmaster: written into the rings). */
  publishMs: number;
  deliveredPerSec: number;
  publishesPerSec: number;
  outOfOrder: number;
}

export interface FanOutResult {
  subscribers: number;
  /** Medians over the recorded runs. */
  deliveredPerSec: number;
  publishesPerSec: number;
  runs: FanOutRun[];
}

export type FanOutWay = FanOutMode | 'postMessage';

const subjectOf = (n: number): string => `fan.${n}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function runOf(t0: number, publishedAt: number, publishes: number, reports: CounterDone[]): FanOutRun {
  const delivered = reports.reduce((s, r) => s + r.count, 0);
  const lastAt = Math.max(...reports.map((r) => r.lastAt));
  const deliverMs = lastAt - t0;
  const publishMs = publishedAt - t0;
  return {
    publishes,
    delivered,
    deliverMs: round2(deliverMs),
    publishMs: round2(publishMs),
    deliveredPerSec: Math.round(delivered / (deliverMs / 1000)),
    publishesPerSec: Math.round(publishes / (publishMs / 1000)),
    outOfOrder: reports.reduce((s, r) => s + r.outOfOrder, 0),
  };
}

function summarizeRuns(subscribers: number, runs: FanOutRun[]): FanOutResult {
  return {
    subscribers,
    deliveredPerSec: Math.round(median(runs.map((r) => r.deliveredPerSec))),
    publishesPerSec: Math.round(median(runs.map((r) => r.publishesPerSec))),
    runs,
  };
}

function check(way: FanOutWay, n: number, r: FanOutRun): FanOutRun {
  if (r.delivered !== r.publishes * n) throw new Error(`${way} fan-out to ${n}: ${r.delivered} delivered, expected ${r.publishes * n}`);
  return r;
}

/** Waits for the counters' done reports, published to the main thread. */
class DoneReports {
  #want = 0;
  #got: CounterDone[] = [];
  #resolve: ((r: CounterDone[]) => void) | null = null;
  readonly off: () => void;

  constructor(system: ActorSystem) {
    this.off = system.subscribe<CounterDone>(DONE_SUBJECT, (d) => {
      this.#got.push(d);
      if (this.#got.length === this.#want) this.#resolve?.(this.#got);
    });
  }

  expect(n: number, timeoutMs: number): Promise<CounterDone[]> {
    this.#want = n;
    this.#got = [];
    const p = new Promise<CounterDone[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.#got.length} of ${n} subscribers reported within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.#resolve = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
    // Awaited by the run; a run that fails before then must not leave it unhandled.
    p.catch(() => {});
    return p;
  }
}

/** One way of fanning out, ready to run: `publishes` ticks to each of the first `n` subscribers. */
type RunFn = (n: number, publishes: number) => Promise<FanOutRun>;

interface Rig {
  ways: Partial<Record<FanOutWay, RunFn>>;
  stop(): Promise<void>;
}

/** Ringmaster: a publisher actor and max(groups) counter actors, heartbeats off so idle subscribers stay parked. */
async function actorRig(plan: FanOutPlan): Promise<Rig & { startMs: number }> {
  const max = Math.max(...plan.groups);
  const ids = Array.from({ length: max }, (_, i) => `sub-${i}`);
  const children: ChildSpec[] = [
    { id: 'pub', module: PUBLISHER, heartbeat: false },
    ...ids.map((id, i): ChildSpec => ({ id, module: COUNTER, heartbeat: false, subscribe: plan.groups.filter((g) => i < g).map(subjectOf) })),
  ];
  const startedAt = now();
  const system = await ActorSystem.start({ name: 'bench-patterns', log: { level: 'silent' }, tree: { id: 'root', strategy: 'one_for_one', children } });
  const startMs = round2(now() - startedAt);
  const done = new DoneReports(system);
  const timeout = plan.runTimeoutMs;
  const pub = system.ref<PublisherMsg>('pub');
  const run =
    (mode: FanOutMode): RunFn =>
    async (n, publishes) => {
      const targets = ids.slice(0, n);
      await pub.ask({ op: 'plan', mode, subject: subjectOf(n), targets });
      await Promise.all(targets.map((id) => system.ref<CounterMsg>(id).ask({ op: 'expect', n: publishes })));
      const reports = done.expect(n, timeout);
      let next = 0;
      let made = 0;
      const t0 = now();
      const lane = async (): Promise<void> => {
        while (next < publishes) {
          const from = next;
          const k = Math.min(plan.burst, publishes - from);
          next += k;
          // Not `made += await …`: that reads `made` before the await and loses the other lane's bursts.
          const d = await pub.ask<number>({ op: 'burst', from, k }, { timeout });
          made += d;
        }
      };
      await Promise.all(Array.from({ length: plan.burstsInFlight }, lane));
      const publishedAt = now();
      if (made !== publishes * n) throw new Error(`${mode} to ${n}: the publisher made ${made} deliveries, expected ${publishes * n}`);
      return check(mode, n, runOf(t0, publishedAt, publishes, await reports));
    };
  return {
    ways: { publish: run('publish'), send: run('send') },
    startMs,
    async stop() {
      done.off();
      await system.stop();
    },
  };
}

/** Baseline: one sending worker with a MessagePort to each of max(groups) receiving workers. */
function portRig(plan: FanOutPlan): Rig {
  const max = Math.max(...plan.groups);
  const channels = Array.from({ length: max }, () => new MessageChannel());
  const receivers = channels.map(
    ({ port1 }, i) => new Peer<ReceiverReport, ReceiverCommand>(`postMessage receiver ${i}`, PORT_RECEIVER, { port: port1, id: `rx-${i}` }, [port1]),
  );
  const senderPorts: MessagePort[] = channels.map((c) => c.port2);
  const sender = new Peer<SenderReport, SenderCommand>('postMessage fan-out sender', PORT_SENDER, { ports: senderPorts }, senderPorts);
  const postMessage: RunFn = async (n, publishes) => {
    const targets = receivers.slice(0, n);
    for (const r of targets) r.send({ type: 'expect', n: publishes });
    await Promise.all(targets.map((r) => r.next('armed', plan.runTimeoutMs)));
    const reports = Promise.all(targets.map((r) => r.next('done', plan.runTimeoutMs)));
    reports.catch(() => {});
    const t0 = now();
    sender.send({ type: 'send', n, count: publishes });
    const sent = await sender.next('sent', plan.runTimeoutMs);
    return check('postMessage', n, runOf(t0, sent.endAt, publishes, await reports));
  };
  return {
    ways: { postMessage },
    stop: async () => void (await Promise.all([sender, ...receivers].map((p) => p.stop()))),
  };
}

export const FAN_OUT_WAYS = ['publish', 'send', 'postMessage'] as const satisfies readonly FanOutWay[];

export interface FanOutResults {
  byWay: Record<FanOutWay, FanOutResult[]>;
  /** ActorSystem.start of the publisher and every subscriber. */
  actorStartMs: number;
}

/**
 * Both rigs run side by side (the idle one's threads are parked or waiting on
 * their ports), so the three ways can take turns within each group: a warm-up
 * of each, then `reps` rounds, each started by the next way in turn, so that
 * a burst of load from elsewhere falls on all of them alike.
 */
export async function fanOut(plan: FanOutPlan): Promise<FanOutResults> {
  const rigs: Rig[] = [];
  try {
    const actors = await actorRig(plan);
    rigs.push(actors);
    const ports = portRig(plan);
    rigs.push(ports);
    const ways = { ...actors.ways, ...ports.ways } as Record<FanOutWay, RunFn>;
    const byWay = Object.fromEntries(FAN_OUT_WAYS.map((w) => [w, [] as FanOutResult[]])) as Record<FanOutWay, FanOutResult[]>;
    for (const n of plan.groups) {
      const publishes = plan.publishes[n]!;
      for (const w of FAN_OUT_WAYS) await ways[w](n, Math.max(1, Math.round(publishes * plan.warmShare)));
      const runs = Object.fromEntries(FAN_OUT_WAYS.map((w) => [w, [] as FanOutRun[]])) as Record<FanOutWay, FanOutRun[]>;
      for (let rep = 0; rep < plan.reps; rep++) {
        for (let k = 0; k < FAN_OUT_WAYS.length; k++) {
          const w = FAN_OUT_WAYS[(rep + k) % FAN_OUT_WAYS.length]!;
          runs[w].push(await ways[w](n, publishes));
        }
      }
      for (const w of FAN_OUT_WAYS) byWay[w].push(summarizeRuns(n, runs[w]));
    }
    return { byWay, actorStartMs: actors.startMs };
  } finally {
    for (const r of rigs.reverse()) await r.stop();
  }
}
