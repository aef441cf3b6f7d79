/**
 * A topology built two ways, behind one interface the runs drive: ringmaster
 * actors in an ActorSystem (started with the public API, each node a child of
 * one one_for_one root with every default a user gets), and plain workers
 * wired port to port with MessageChannels. The main thread only starts,
 * arms, tells to go and collects; no data message passes through it.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { ActorSystem, type ChildSpec } from '../../src/index.js';
import type { PortNodeReport } from '../workers/scale-port-node.js';
import { Peer } from './peer.js';
import { SCALE_DONE_SUBJECT, type ScaleCommand, type ScaleDone, type ScaleNodeConfig } from './scale-node.js';
import type { Topology } from './scale-topology.js';
import { round2 } from './stats.js';

const NODE_ACTOR = new URL('../actors/scale-node.js', import.meta.url).href;
const NODE_WORKER = new URL('../workers/scale-port-node.js', import.meta.url);
/** Latencies fetched per ask: 64 KiB of doubles, well inside a ring's largest message. */
const SAMPLES_PER_ASK = 8192;
const CONTROL_TIMEOUT_MS = 30_000;

export type Side = 'ringmaster' | 'postMessage';

export interface Rig {
  readonly side: Side;
  /** From the first thread launched to every node ready, ms. */
  readonly startMs: number;
  /** Prepare the recorders for a run (answered once each is ready). */
  arm(expect: Map<number, number>): Promise<void>;
  /** Resolves with the reports of `recorders` once each has its messages; set up before `go`. */
  done(recorders: number[], timeoutMs: number): Promise<ScaleDone[]>;
  go(commands: Map<number, ScaleCommand>): void;
  /** Every latency recorded in the last run, µs. */
  samples(recorders: number[]): Promise<Float64Array[]>;
  /** Actors that crashed since start (ringmaster; a worker that dies fails the run instead). */
  crashes(): number;
  stop(): Promise<void>;
}

const configOf = (t: Topology, index: number): ScaleNodeConfig => ({ role: t.roles[index]!, index, prefix: t.prefix, nodes: t.roles.length });

/** Waits for a given set of done reports, taking them as they come. */
class DoneWaiter {
  #want = new Set<number>();
  #got: ScaleDone[] = [];
  #settle: ((r: ScaleDone[] | Error) => void) | null = null;

  expect(recorders: number[], timeoutMs: number): Promise<ScaleDone[]> {
    this.#want = new Set(recorders);
    this.#got = [];
    const p = new Promise<ScaleDone[]>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle?.(new Error(`only ${this.#got.length} of ${recorders.length} recorders had all their messages within ${timeoutMs} ms`)), timeoutMs);
      this.#settle = (r) => {
        clearTimeout(timer);
        this.#settle = null;
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
    p.catch(() => {});
    if (recorders.length === 0) this.#settle!(this.#got);
    return p;
  }

  add(d: ScaleDone): void {
    if (!this.#want.delete(d.index)) return;
    this.#got.push(d);
    if (this.#want.size === 0) this.#settle?.(this.#got);
  }
}

/** `spinMicros`: the system's `transport.spin.micros` (0 = `'off'`); undefined keeps the default a user gets (`'auto'`). */
export async function actorRig(t: Topology, spinMicros?: number): Promise<Rig> {
  const ids = t.roles.map((_, i) => `${t.prefix}${i}`);
  const children: ChildSpec[] = ids.map((id, i) => ({ id, module: NODE_ACTOR, config: configOf(t, i) }));
  const t0 = performance.now();
  const system = await ActorSystem.start({
    name: `bench-scale-${t.name}`,
    log: { level: 'silent' },
    ...(spinMicros === undefined ? {} : { transport: { spin: spinMicros === 0 ? ('off' as const) : { micros: spinMicros } } }),
    tree: { id: 'root', strategy: 'one_for_one', children },
  });
  const startMs = round2(performance.now() - t0);
  let crashes = 0;
  const offCrash = system.on('crashed', () => crashes++);
  const waiter = new DoneWaiter();
  const offDone = system.subscribe<ScaleDone>(SCALE_DONE_SUBJECT, (d) => waiter.add(d));
  const refs = ids.map((id) => system.ref<ScaleCommand>(id));
  const fetch = async (i: number): Promise<Float64Array> => {
    const parts: Float64Array[] = [];
    for (let from = 0; ; from += SAMPLES_PER_ASK) {
      const bytes = await refs[i]!.ask<Uint8Array>({ op: 'samples', from, max: SAMPLES_PER_ASK }, { timeout: CONTROL_TIMEOUT_MS });
      // A copy: the bytes need not be aligned for a Float64Array view.
      const part = new Float64Array(bytes.byteLength / 8);
      new Uint8Array(part.buffer).set(bytes);
      parts.push(part);
      if (part.length < SAMPLES_PER_ASK) break;
    }
    const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  };
  return {
    side: 'ringmaster',
    startMs,
    async arm(expect) {
      await Promise.all([...expect].map(([i, n]) => refs[i]!.ask({ op: 'arm', expect: n }, { timeout: CONTROL_TIMEOUT_MS })));
    },
    done: (recorders, timeoutMs) => waiter.expect(recorders, timeoutMs),
    go(commands) {
      for (const [i, c] of commands) refs[i]!.tell(c);
    },
    samples: (recorders) => Promise.all(recorders.map(fetch)),
    crashes: () => crashes,
    async stop() {
      offDone();
      offCrash();
      await system.stop();
    },
  };
}

export async function portRig(t: Topology): Promise<Rig> {
  const n = t.roles.length;
  const t0 = performance.now();
  const peers: number[][] = Array.from({ length: n }, () => []);
  const ports: MessagePort[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of t.edges) {
    const { port1, port2 } = new MessageChannel();
    peers[a]!.push(b);
    ports[a]!.push(port1);
    peers[b]!.push(a);
    ports[b]!.push(port2);
  }
  const nodes = t.roles.map(
    (_, i) => new Peer<PortNodeReport, ScaleCommand>(`postMessage ${t.name} node ${i}`, NODE_WORKER, { ...configOf(t, i), peers: peers[i], ports: ports[i] }, ports[i]),
  );
  const stop = async (): Promise<void> => void (await Promise.all(nodes.map((p) => p.stop())));
  try {
    await Promise.all(nodes.map((p) => p.next('ready', CONTROL_TIMEOUT_MS)));
  } catch (err) {
    await stop();
    throw err;
  }
  const startMs = round2(performance.now() - t0);
  return {
    side: 'postMessage',
    startMs,
    async arm(expect) {
      for (const [i, e] of expect) nodes[i]!.send({ op: 'arm', expect: e });
      await Promise.all([...expect.keys()].map((i) => nodes[i]!.next('armed', CONTROL_TIMEOUT_MS)));
    },
    done(recorders, timeoutMs) {
      const p = Promise.all(recorders.map((i) => nodes[i]!.next('done', timeoutMs))).then((ds) => ds.map(({ type: _, ...d }) => d));
      p.catch(() => {});
      return p;
    },
    go(commands) {
      for (const [i, c] of commands) nodes[i]!.send(c);
    },
    async samples(recorders) {
      for (const i of recorders) nodes[i]!.send({ op: 'samples', from: 0, max: Number.MAX_SAFE_INTEGER });
      return Promise.all(recorders.map(async (i) => (await nodes[i]!.next('samples', CONTROL_TIMEOUT_MS)).samples));
    },
    crashes: () => 0,
    stop,
  };
}
