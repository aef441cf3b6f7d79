/**
 * Call overhead from the main thread: one echo actor reached as a typed-proxy
 * call (system.proxy, comlink's protocol carried by the rings) and as a raw
 * ask, an async echo asked the same way, and comlink over postMessage to a
 * plain worker, the thing a user would otherwise pick. Each carries the
 * transport bench's ~100-byte tick.
 */
import { releaseProxy } from 'comlink';
import { ActorSystem } from '../../src/index.js';
import type { EchoApi } from '../actors/echo-api.js';
import { now } from './clock.js';
import { processCpuMs } from './machine.js';
import { tick, type Tick } from './payload.js';
import { flood, type RpcClient } from './rpc-bench.js';
import { round2, summarize, type LatencySummary } from './stats.js';
import { comlinkClient } from './transports.js';

const ECHO_API = new URL('../actors/echo-api.js', import.meta.url).href;
const ECHO_ASYNC = new URL('../actors/echo-async.js', import.meta.url).href;

/** askAsync: a raw ask to an actor whose receive is async, the path a proxy call's answer takes. */
export const CALL_WAYS = ['proxy', 'ask', 'askAsync', 'comlink'] as const;
export type CallWay = (typeof CALL_WAYS)[number];

export interface CallPlan {
  /** Unrecorded sequential calls per way first. */
  warm: number;
  /** Recorded sequential calls come in rounds in which the ways take turns, so drift affects each alike. */
  rounds: number;
  perRound: number;
  /** Throughput: calls outstanding at once, for `floodMs` after `floodWarmMs` unrecorded. */
  inFlight: number;
  floodWarmMs: number;
  floodMs: number;
}

export interface CallResult {
  /** Every recorded sequential call: one in flight, awaited, from the main thread. */
  rtt: LatencySummary;
  /** The p50 of each round, to show how much it moved. */
  roundP50s: number[];
  /** process.cpuUsage() (every thread) over the sequential calls, per call. */
  cpuUsPerCall: number;
  throughputPerSec: number;
}

export async function callOverhead(plan: CallPlan): Promise<Record<CallWay, CallResult>> {
  const system = await ActorSystem.start({
    name: 'bench-patterns-calls',
    log: { level: 'silent' },
    tree: {
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'echo', module: ECHO_API },
        { id: 'echo-async', module: ECHO_ASYNC },
      ],
    },
  });
  const api = system.proxy<EchoApi>('echo');
  const ref = system.ref<Tick>('echo');
  const asyncRef = system.ref<Tick>('echo-async');
  const clients: Record<CallWay, RpcClient> = {
    proxy: { call: (seq) => api.echo(tick(seq, now())), close: async () => api[releaseProxy]() },
    ask: { call: (seq) => ref.ask(tick(seq, now())), close: async () => {} },
    askAsync: { call: (seq) => asyncRef.ask(tick(seq, now())), close: async () => {} },
    comlink: comlinkClient(),
  };
  try {
    for (const w of CALL_WAYS) {
      const echoed = (await clients[w].call(7)) as Tick;
      if (echoed?.seq !== 7) throw new Error(`${w}: the echo came back as ${JSON.stringify(echoed)}`);
      for (let i = 0; i < plan.warm; i++) await clients[w].call(i);
    }
    const samples = new Map<CallWay, number[]>(CALL_WAYS.map((w) => [w, []]));
    const roundP50s = new Map<CallWay, number[]>(CALL_WAYS.map((w) => [w, []]));
    const cpuMs = new Map<CallWay, number>(CALL_WAYS.map((w) => [w, 0]));
    for (let r = 0; r < plan.rounds; r++) {
      // Rotate who goes first: a way measured right after another inherits its threads' state.
      const order = CALL_WAYS.map((_, i) => CALL_WAYS[(i + r) % CALL_WAYS.length]!);
      for (const w of order) {
        const client = clients[w];
        const round = new Float64Array(plan.perRound);
        const c0 = processCpuMs();
        for (let i = 0; i < plan.perRound; i++) {
          const t = now();
          await client.call(i);
          round[i] = (now() - t) * 1000;
        }
        cpuMs.set(w, cpuMs.get(w)! + processCpuMs() - c0);
        samples.get(w)!.push(...round);
        roundP50s.get(w)!.push(summarize(round).p50);
      }
    }
    const out = {} as Record<CallWay, CallResult>;
    for (const w of CALL_WAYS) {
      await flood(clients[w], plan.inFlight, plan.floodWarmMs);
      const throughputPerSec = Math.round(await flood(clients[w], plan.inFlight, plan.floodMs));
      const n = plan.rounds * plan.perRound;
      out[w] = { rtt: summarize(samples.get(w)!), roundP50s: roundP50s.get(w)!, cpuUsPerCall: round2((cpuMs.get(w)! * 1000) / n), throughputPerSec };
    }
    return out;
  } finally {
    await Promise.all(CALL_WAYS.map((w) => clients[w].close()));
    await system.stop();
  }
}
