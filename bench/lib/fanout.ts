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
  /** Recorded runs per group and way of fanning out; they alternate, so drift affects each alike. */
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

/** Each group's runs of every way: a warm-up of each, then `reps` rounds in which the ways take turns going first. */
async function rounds(plan: FanOutPlan, ways: readonly FanOutWay[], run: (way: FanOutWay, n: number, publishes: number) => Promise<FanOutRun>): Promise<Map<FanOutWay, FanOutResult[]>> {
  const out = new Map<FanOutWay, FanOutResult[]>(ways.map((w) => [w, []]));
  for (const n of plan.groups) {
    const publishes = plan.publishes[n]!;
    for (const w of ways) await run(w, n, Math.max(1, Math.round(publishes * plan.warmShare)));
    const runs = new Map<FanOutWay, FanOutRun[]>(ways.map((w) => [w, []]));
    for (let rep = 0; rep < plan.reps; rep++) {
      const order = rep % 2 === 0 ? ways : [...ways].reverse();
      for (const w of order) runs.get(w)!.push(await run(w, n, publishes));
    }
    for (const w of ways) out.get(w)!.push(summarizeRuns(n, runs.get(w)!));
  }
  return out;
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
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.#got.length} of ${n} subscribers reported within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.#resolve = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }
}

export interface ActorFanOut {
  publish: FanOutResult[];
  send: FanOutResult[];
  /** ActorSystem.start of the publisher and every subscriber. */
  startMs: number;
}

/** Ringmaster: a publisher actor and max(groups) counter actors, heartbeats off so idle subscribers stay parked. */
export async function fanOutActors(plan: FanOutPlan): Promise<ActorFanOut> {
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
  try {
    const byWay = await rounds(plan, ['publish', 'send'], async (way, n, publishes) => {
      const targets = ids.slice(0, n);
      await pub.ask({ op: 'plan', mode: way as FanOutMode, subject: subjectOf(n), targets });
      await Promise.all(targets.map((id) => system.ref<CounterMsg>(id).ask({ op: 'expect', n: publishes })));
      const reports = done.expect(n, timeout);
      // Awaited below; a run that fails before then must not leave it unhandled.
      reports.catch(() => {});
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
      if (made !== publishes * n) throw new Error(`${way} to ${n}: the publisher made ${made} deliveries, expected ${publishes * n}`);
      return check(way, n, runOf(t0, publishedAt, publishes, await reports));
    });
    return { publish: byWay.get('publish')!, send: byWay.get('send')!, startMs };
  } finally {
    done.off();
    await system.stop();
  }
}

/** Baseline: one sending worker with a MessagePort to each of max(groups) receiving workers. */
export async function fanOutPorts(plan: FanOutPlan): Promise<FanOutResult[]> {
  const max = Math.max(...plan.groups);
  const channels = Array.from({ length: max }, () => new MessageChannel());
  const receivers = channels.map(
    ({ port1 }, i) => new Peer<ReceiverReport, ReceiverCommand>(`postMessage receiver ${i}`, PORT_RECEIVER, { port: port1, id: `rx-${i}` }, [port1]),
  );
  const senderPorts: MessagePort[] = channels.map((c) => c.port2);
  const sender = new Peer<SenderReport, SenderCommand>('postMessage fan-out sender', PORT_SENDER, { ports: senderPorts }, senderPorts);
  try {
    const byWay = await rounds(plan, ['postMessage'], async (way, n, publishes) => {
      const targets = receivers.slice(0, n);
      for (const r of targets) r.send({ type: 'expect', n: publishes });
      await Promise.all(targets.map((r) => r.next('armed', plan.runTimeoutMs)));
      const reports = Promise.all(targets.map((r) => r.next('done', plan.runTimeoutMs)));
      reports.catch(() => {});
      const t0 = now();
      sender.send({ type: 'send', n, count: publishes });
      const sent = await sender.next('sent', plan.runTimeoutMs);
      return check(way, n, runOf(t0, sent.endAt, publishes, await reports));
    });
    return byWay.get('postMessage')!;
  } finally {
    await Promise.all([sender, ...receivers].map((p) => p.stop()));
  }
}
