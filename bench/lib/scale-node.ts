/**
 * What one node of a scale topology does, apart from how its messages travel:
 * the same class runs inside a ringmaster actor (bench/actors/scale-node.ts,
 * sending with ctx.send) and inside a plain worker (bench/workers/scale-port-node.ts,
 * sending with MessagePort.postMessage), so both sides send the same messages
 * on the same schedule to the same peers and do the same work per message.
 */
import { tick, type Tick } from './payload.js';
import { Rng } from './soak-rng.js';

/** What a node is in its topology; peers are named by their index. */
export type ScaleRole =
  /** Makes the messages (stamped when handed to the transport) and sends them to `to`. */
  | { kind: 'source'; to: number }
  /** Forwards every message to `to` as it came (the stamp of its source kept). */
  | { kind: 'forward'; to: number }
  /** Records every message's end-to-end latency. */
  | { kind: 'sink' }
  /** Sends paced messages, each to one of `peers` at random, and records what it gets (`nodes` in the topology). */
  | { kind: 'peer'; nodes: number; peers: number[] };

/** Main thread → node. */
export type ScaleCommand =
  /** Start a run: `expect` messages will arrive here (recorders only). Answered with 'armed'. */
  | { op: 'arm'; expect: number }
  /**
   * Send `count` messages: flat out when `ratePerSec` is 0, else paced at that
   * rate. A peer picks its targets with `seed` (or goes round all the others
   * in turn when `sweep`).
   */
  | { op: 'go'; count: number; ratePerSec: number; seed: number; sweep: boolean }
  /** The latencies recorded this run from index `from`, at most `max` of them, µs. */
  | { op: 'samples'; from: number; max: number };

/** A recorder's report once it has every message it was armed for. */
export interface ScaleDone {
  index: number;
  count: number;
  /** Arrival of the first and the last message: performance.timeOrigin + performance.now(), ms. */
  firstAt: number;
  lastAt: number;
}

/** How a node reaches the others and the main thread. */
export interface ScaleOut {
  send(to: number, t: Tick): void;
  done(d: ScaleDone): void;
}

const ORIGIN = performance.timeOrigin;

/** performance.timeOrigin + performance.now(), ms: comparable across threads whatever each thread's origin. */
export const stamp = (): number => ORIGIN + performance.now();

/** A seeded draw in [0, 1), the same on every thread for a seed (the soak's mulberry32). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/**
 * `k` distinct peers of node `self` out of `nodes`, chosen at random (the
 * same on every thread for a seed): the nodes a random-pairs node talks to.
 */
export function peerSet(self: number, nodes: number, k: number, seed: number): number[] {
  if (nodes < 2) throw new Error(`random pairs need at least 2 nodes, got ${nodes}`);
  const others = Array.from({ length: nodes - 1 }, (_, i) => (i >= self ? i + 1 : i));
  const random = rng(seed);
  const n = Math.min(k, others.length);
  // A partial Fisher-Yates shuffle: the first n places.
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (others.length - i));
    [others[i], others[j]] = [others[j]!, others[i]!];
  }
  return others.slice(0, n).sort((a, b) => a - b);
}

/**
 * The peer each message of a random-pairs node goes to: one of its set,
 * uniformly at random for a seed, or each of them in turn (`sweep`). The main
 * thread runs the same sequence to know how many messages each node gets.
 */
export class Targets {
  readonly #peers: number[];
  readonly #random: (() => number) | null;
  #i = 0;

  constructor(peers: number[], seed: number, sweep: boolean) {
    if (peers.length === 0) throw new Error('a random-pairs node needs at least one peer');
    this.#peers = peers;
    this.#random = sweep ? null : rng(seed);
  }

  next(): number {
    const p = this.#peers;
    return p[this.#random === null ? this.#i++ % p.length : Math.floor(this.#random() * p.length)]!;
  }
}

/** How many messages each node gets in a run where node i sends `counts[i]` to its set `sets[i]` (with seed `seeds[i]`). */
export function peerExpectations(sets: number[][], counts: number[], seeds: number[], sweep: boolean): number[] {
  const expect = new Array<number>(sets.length).fill(0);
  for (let i = 0; i < sets.length; i++) {
    const t = new Targets(sets[i]!, seeds[i]!, sweep);
    for (let k = 0; k < counts[i]!; k++) expect[t.next()]!++;
  }
  return expect;
}

/**
 * One node: forwards, records (the latency of every message, kept whole for
 * the main thread's percentiles) and sends on command, flat out or paced.
 */
export class ScaleNode {
  readonly #role: ScaleRole;
  readonly #index: number;
  readonly #out: ScaleOut;
  #samples = new Float64Array(1024);
  #count = 0;
  #expect = 0;
  #firstAt = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(role: ScaleRole, index: number, out: ScaleOut) {
    this.#role = role;
    this.#index = index;
    this.#out = out;
  }

  /** A data message. */
  onTick(t: Tick): void {
    const role = this.#role;
    if (role.kind === 'forward') {
      this.#out.send(role.to, t);
      return;
    }
    const at = stamp();
    const i = this.#count++;
    if (i === this.#samples.length) {
      const grown = new Float64Array(i * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[i] = (at - t.ts) * 1000;
    if (i === 0) this.#firstAt = at;
    if (i + 1 === this.#expect) this.#out.done({ index: this.#index, count: i + 1, firstAt: this.#firstAt, lastAt: at });
  }

  /** A command from the main thread; the answer to give it, if any. */
  command(c: ScaleCommand): 'armed' | Float64Array | undefined {
    if (c.op === 'arm') {
      this.#expect = c.expect;
      this.#count = 0;
      this.#firstAt = 0;
      return 'armed';
    }
    if (c.op === 'samples') return this.#samples.slice(c.from, Math.min(this.#count, c.from + c.max));
    const role = this.#role;
    if (role.kind === 'source') {
      if (c.ratePerSec > 0) this.#paced(c, () => role.to);
      else for (let seq = 0; seq < c.count; seq++) this.#out.send(role.to, tick(seq, stamp()));
    } else if (role.kind === 'peer') {
      const targets = new Targets(role.peers, c.seed, c.sweep);
      if (c.ratePerSec > 0) this.#paced(c, () => targets.next());
      else for (let seq = 0; seq < c.count; seq++) this.#out.send(targets.next(), tick(seq, stamp()));
    }
    return undefined;
  }

  /** Stop a paced schedule still running (the node is being stopped). */
  halt(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Message k is due at start + k × period; each timer sends whatever is due
   * (several at once when the thread got the CPU late) and sleeps to the next.
   * Nodes start a fraction of a period apart, so they do not all fire together.
   */
  #paced(c: { count: number; ratePerSec: number }, target: () => number): void {
    const period = 1000 / c.ratePerSec;
    const nodes = this.#role.kind === 'peer' ? this.#role.nodes : 1;
    const start = performance.now() + (period * this.#index) / nodes;
    let sent = 0;
    const step = (): void => {
      const due = Math.min(c.count, Math.floor((performance.now() - start) / period) + 1);
      while (sent < due) {
        this.#out.send(target(), tick(sent, stamp()));
        sent++;
      }
      this.#timer = sent < c.count ? setTimeout(step, Math.max(0, start + sent * period - performance.now())) : null;
    };
    this.#timer = setTimeout(step, Math.max(0, start - performance.now()));
  }
}

/** The subject a recorder actor publishes its ScaleDone on; the main thread follows it. */
export const SCALE_DONE_SUBJECT = 'bench.scale.done';

/** A node's place in its topology, as its actor's config or its worker's data carries it. */
export interface ScaleNodeConfig {
  role: ScaleRole;
  index: number;
  /** Node i's actor id is `${prefix}${i}`. */
  prefix: string;
  nodes: number;
}
