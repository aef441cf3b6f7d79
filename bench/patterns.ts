/**
 * Messaging patterns benchmark, each beside its baseline in the same run:
 * topic fan-out to 1, 10 and 100 subscriber actors against the same fan-out
 * by hand (ctx.send) and against postMessage between plain workers; a
 * typed-proxy call against a raw ask and against comlink over postMessage;
 * a pool actor against piscina used directly. Prints tables and writes
 * bench/results/patterns.json. Run with `npm run bench:patterns`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CHILD_RING_BYTES } from '../src/index.js';
import { CALL_WAYS, callOverhead, type CallPlan, type CallWay } from './lib/calls.js';
import { fanOut, type FanOutPlan, type FanOutResult } from './lib/fanout.js';
import { probeStalls, withOtherLoad } from './lib/machine.js';
import { runBench } from './lib/peer.js';
import { poolVsPiscina, type PoolPlan } from './lib/pool-bench.js';
import { fmtInt, table } from './lib/report.js';
import { round2 } from './lib/stats.js';

/** Compiled to dist/bench/; results belong in the source tree's bench/results/. */
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/patterns.json');
const CPUS = availableParallelism();
/** Whole-run limit: a measure that hangs must not keep the process (and run-all) waiting. */
const RUN_LIMIT_MS = 180_000;
/** Share of the machine other processes may take during a phase before its numbers are flagged. */
const NOISY_PCT = 5;

// 100 subscribers are 100 worker threads on 2 cores, where a delivery costs tens of µs: runs
// are kept to 40k-80k deliveries so 3 ways × 3 groups × (warm-up + reps) take ~40 s. Short
// runs taken in turns give medians that a burst of load from elsewhere moves less than long ones.
const FAN_OUT: FanOutPlan = {
  groups: [1, 10, 100],
  publishes: { 1: 60_000, 10: 8_000, 100: 400 },
  warmShare: 0.25,
  reps: 5,
  burst: 200,
  burstsInFlight: 2,
  runTimeoutMs: 30_000,
};

const CALLS: CallPlan = { warm: 2_000, rounds: 8, perRound: 1_200, inFlight: 256, floodWarmMs: 300, floodMs: 1_000 };

const POOL: PoolPlan = { threads: 2, inFlight: 32, taskN: 10_000, warmMs: 300, ms: 1_000, reps: 5, seqWarm: 100, seqCount: 2_000 };

const CALL_LABELS: Record<CallWay, string> = {
  proxy: 'system.proxy (typed)',
  ask: 'ref.ask (raw)',
  askAsync: 'ref.ask, async receive',
  comlink: 'comlink over postMessage',
};

const f2 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a: number, b: number): number => round2(a / b);

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

  log('machine: two busy-waiting threads for 1 s …');
  const stalls = await probeStalls(2, 1_000);
  const fan = await phase('fan-out', () => fanOut(FAN_OUT));
  const calls = await phase('calls', () => callOverhead(CALLS));
  const pool = await phase('pool', () => poolVsPiscina(POOL));
  log('done');

  const fanOutRows = FAN_OUT.groups.map((n, i) => {
    const publish = fan.byWay.publish[i]!;
    const send = fan.byWay.send[i]!;
    const postMessage = fan.byWay.postMessage[i]!;
    return {
      subscribers: n,
      publishesPerRun: FAN_OUT.publishes[n]!,
      deliveriesPerRun: FAN_OUT.publishes[n]! * n,
      publish,
      send,
      postMessage,
      ratios: {
        publishVsSendDelivered: ratio(publish.deliveredPerSec, send.deliveredPerSec),
        publishVsPostMessageDelivered: ratio(publish.deliveredPerSec, postMessage.deliveredPerSec),
      },
    };
  });
  const callRatios = {
    proxyVsAskP50: ratio(calls.proxy.rtt.p50, calls.ask.rtt.p50),
    proxyVsComlinkP50: ratio(calls.proxy.rtt.p50, calls.comlink.rtt.p50),
    askVsComlinkP50: ratio(calls.ask.rtt.p50, calls.comlink.rtt.p50),
    proxyVsAskThroughput: ratio(calls.proxy.throughputPerSec, calls.ask.throughputPerSec),
    askAsyncVsAskP50: ratio(calls.askAsync.rtt.p50, calls.ask.rtt.p50),
    askAsyncVsAskThroughput: ratio(calls.askAsync.throughputPerSec, calls.ask.throughputPerSec),
  };
  const poolRatios = {
    throughput: ratio(pool.pool.tasksPerSec, pool.piscina.tasksPerSec),
    p50: ratio(pool.pool.latency.p50, pool.piscina.latency.p50),
    sequentialP50: ratio(pool.pool.sequential.p50, pool.piscina.sequential.p50),
  };
  const noisy = Object.keys(other).filter((k) => other[k]! > NOISY_PCT);

  const fanRow = (way: string, r: FanOutResult, base?: FanOutResult): string[] => [
    `${r.subscribers}`,
    way,
    fmtInt(r.deliveredPerSec),
    fmtInt(r.publishesPerSec),
    base ? `×${ratio(r.deliveredPerSec, base.deliveredPerSec)}` : '',
  ];
  console.log(`\nnode ${process.version}, ${CPUS} CPUs; medians of ${FAN_OUT.reps} runs; ~100-byte tick`);
  console.log('\nfan-out: one publisher actor (or worker), n subscribers counting; delivered = every subscriber\'s count / time to the last one');
  console.log(
    table([
      ['subscribers', 'way', 'delivered msgs/s', 'publishes/s', 'delivered vs ctx.publish'],
      ...fanOutRows.flatMap((f) => [fanRow('ctx.publish', f.publish), fanRow('ctx.send loop', f.send, f.publish), fanRow('postMessage', f.postMessage, f.publish)]),
    ]),
  );
  console.log(`\ncalls from the main thread to an echo (sequential, ${CALLS.rounds * CALLS.perRound} recorded after ${CALLS.warm}); throughput with ${CALLS.inFlight} in flight`);
  console.log(
    table([
      ['way', 'RTT p50 µs', 'p99 µs', 'p99.9 µs', 'p50 per round', 'calls/s', 'CPU µs/call (seq.)'],
      ...CALL_WAYS.map((w) => {
        const c = calls[w];
        return [CALL_LABELS[w], f2(c.rtt.p50), f2(c.rtt.p99), f2(c.rtt.p999), c.roundP50s.map(f2).join(' '), fmtInt(c.throughputPerSec), f2(c.cpuUsPerCall)];
      }),
    ]),
  );
  console.log(`\npool: ${POOL.threads} threads, ${POOL.inFlight} asks in flight, task = sum of ${POOL.taskN} numbers (${pool.taskUs} µs alone)`);
  console.log(
    table([
      ['way', 'tasks/s', 'runs', 'p50 µs', 'p99 µs', 'p50 µs, 1 in flight'],
      ...(['pool', 'piscina'] as const).map((s) => {
        const p = pool[s];
        return [s === 'pool' ? 'pool actor (ask)' : 'piscina.run', fmtInt(p.tasksPerSec), p.runs.map(fmtInt).join(' '), f2(p.latency.p50), f2(p.latency.p99), f2(p.sequential.p50)];
      }),
    ]),
  );
  console.log(`
ratios: publish/send delivered ${fanOutRows.map((f) => `×${f.ratios.publishVsSendDelivered}`).join(' / ')} (1 / 10 / 100 subscribers), publish/postMessage ${fanOutRows.map((f) => `×${f.ratios.publishVsPostMessageDelivered}`).join(' / ')}
proxy/ask RTT p50 ×${callRatios.proxyVsAskP50}, proxy/comlink ×${callRatios.proxyVsComlinkP50}, ask/comlink ×${callRatios.askVsComlinkP50}; proxy/ask throughput ×${callRatios.proxyVsAskThroughput}; async/sync receive: RTT p50 ×${callRatios.askAsyncVsAskP50}, throughput ×${callRatios.askAsyncVsAskThroughput}
pool/piscina tasks/s ×${poolRatios.throughput}, p50 ×${poolRatios.p50}, p50 at 1 in flight ×${poolRatios.sequentialP50}
out-of-order ticks: ${fanOutRows.reduce((s, f) => s + [f.publish, f.send, f.postMessage].reduce((t, r) => t + r.runs.reduce((u, x) => u + x.outOfOrder, 0), 0), 0)}; ${(fan.actorStartMs / 1000).toFixed(1)} s to start ${Math.max(...FAN_OUT.groups) + 1} actors
machine: ${stalls.stalls} stalls > 50 µs in ${stalls.threads}×1 s of busy-waiting (longest ${stalls.maxStallMs} ms); other processes' share per phase (%): ${JSON.stringify(other)}${noisy.length ? `\nWARNING: other processes competed for the CPUs during ${noisy.join(', ')}; those numbers are not representative` : ''}`);

  const out = {
    node: process.version,
    cpus: CPUS,
    date: new Date().toISOString(),
    fanOut: fanOutRows,
    actorStartMs: fan.actorStartMs,
    calls: { ...calls, ratios: callRatios },
    pool: { ...pool, threads: POOL.threads, inFlight: POOL.inFlight, ratios: poolRatios },
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemMb: Math.round(totalmem() / 2 ** 20),
      stalls,
      otherProcessesLoadPct: other,
      disturbedPhases: noisy,
    },
    plan: { fanOut: FAN_OUT, calls: CALLS, pool: POOL },
    notes: NOTES,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
}

const NOTES = [
  'Rates are medians of the recorded runs (each run listed in runs); latencies in µs from hdr-histogram (3 significant digits).',
  `Fan-out: ${FAN_OUT.groups.join(', ')} subscribers, each group with a subject of its own (fan.<n>) that exactly those subscribers follow (tree field subscribe). The publisher actor gets 'burst' asks of ${FAN_OUT.burst} ticks, ${FAN_OUT.burstsInFlight} outstanding, and makes one ctx.publish per tick (publish) or one ctx.send per subscriber per tick (send). Subscribers are actors with heartbeat: false and the default spin budget; those outside the group stay parked. The actors and the postMessage workers are all started first, and within a group the three ways take turns (${FAN_OUT.reps} rounds after one unrecorded warm-up run each, a different way first in each round). A run starts on the main thread before the first burst is asked for and ends at the latest last-tick time a subscriber reports (performance.now(), one time line across threads); delivered/s counts every subscriber's ticks. publishes/s runs to the last burst's answer, i.e. until every tick is in the subscribers' rings (${DEFAULT_CHILD_RING_BYTES / 1024} KiB each: a slow subscriber holds the publisher back).`,
  'Fan-out postMessage baseline: one sending worker holds a MessagePort to each receiving worker (MessageChannel pairs, no main-thread hop) and posts every tick to each of the group, structured-cloned per port. postMessage never blocks, so its publishes/s is how fast ticks were handed over, with the rest queued in the ports; delivered/s is comparable across the three ways.',
  `Calls: an echo actor reached by system.proxy<EchoApi>('echo').echo(tick) (a 'call' envelope carrying comlink's request, answered by the actor's api) and by system.ref('echo').ask(tick) (answered by receive); the same ask to a second echo actor whose receive is async (askAsync: its answer is a promise, as an api method's is inside the host); comlink.wrap/expose over a plain worker's parentPort as the baseline. Sequential: ${CALLS.warm} unrecorded calls each, then ${CALLS.rounds} rounds of ${CALLS.perRound} in which the four take turns going first. CPU per call is process.cpuUsage() (every thread) over the sequential calls: the actor spins between back-to-back calls (its spin budget outlasts the gap), the comlink worker does not. calls/s: ${CALLS.inFlight} outstanding for ${CALLS.floodMs} ms after ${CALLS.floodWarmMs} ms unrecorded.`,
  `Pool: the same task module (bench/workers/sum-task.ts, the default export sums ${POOL.taskN} numbers) run by a pool actor (ask from the main thread) and by piscina.run directly; both with minThreads = maxThreads = ${POOL.threads}, maxQueue ${POOL.inFlight}, piscina's default of one task per thread at a time. ${POOL.inFlight} lanes each await their own call for ${POOL.ms} ms, ${POOL.reps} runs per side taken in turns; latency is per call with that queueing included. The pool actor's piscina worker wraps the task's result ({ ok, value }) and the ask crosses the actor's inbox ring, which the main thread reads.`,
  'Tail latencies (p99, p99.9) on this VM are dominated by threads being descheduled for milliseconds; machine.stalls measures that with plain busy-waiting threads and no messaging.',
];

runBench('patterns', main, RUN_LIMIT_MS);
