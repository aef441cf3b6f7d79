/**
 * The three topologies of the scale benchmark as data: each node's role, the
 * pairs of nodes that talk (a MessageChannel each on the postMessage side;
 * ringmaster wires its rings itself on the first message), and what one run
 * tells the sources and expects at the recorders.
 */
import { peerExpectations, peerSet, type ScaleCommand, type ScaleRole } from './scale-node.js';

export type TopologyName = 'fan-in' | 'pipeline' | 'random-pairs' | 'random-pairs-max';

export interface FanInPlan {
  senders: number;
  /** Messages each sender sends per run, flat out. */
  perSender: number;
}

export interface PipelinePlan {
  /** Nodes in the chain: the first makes the messages, the last records them. */
  stages: number;
  /** Messages the first stage sends per run, flat out. */
  messages: number;
}

export interface RandomPlan {
  actors: number;
  /** Peers each actor sends to, chosen at random once (every other actor: a full mesh). */
  peers: number;
  /** Offered rate of all actors together, msgs/s, split evenly; each message goes to a random other actor. */
  ratePerSec: number;
  /** Length of a run's schedule. The first warm-up instead has each actor send one message to each of its peers (wiring every pair). */
  seconds: number;
}

/** One run: the command for each source and the messages each recorder should get. */
export interface RunOrder {
  commands: Map<number, ScaleCommand>;
  expect: Map<number, number>;
}

export interface Topology {
  name: TopologyName;
  /** Node i is the actor `${prefix}${i}`. */
  prefix: string;
  roles: ScaleRole[];
  edges: Array<[number, number]>;
  /** Offered rate of a paced run, msgs/s (0: flat out). */
  ratePerSec: number;
  /**
   * Run `k`: 1, 2, … are recorded; 0, −1, … are the unrecorded warm-ups
   * before them, as large as a recorded run but for random-pairs' first (run 0).
   */
  run(k: number): RunOrder;
}

const flat = (count: number): ScaleCommand => ({ op: 'go', count, ratePerSec: 0, seed: 0, sweep: false });

export function fanIn(p: FanInPlan): Topology {
  const rx = p.senders;
  const roles: ScaleRole[] = [...Array.from({ length: p.senders }, (): ScaleRole => ({ kind: 'source', to: rx })), { kind: 'sink' }];
  return {
    name: 'fan-in',
    prefix: 'fan-in-',
    roles,
    edges: Array.from({ length: p.senders }, (_, i): [number, number] => [i, rx]),
    ratePerSec: 0,
    run() {
      const n = p.perSender;
      return { commands: new Map(Array.from({ length: p.senders }, (_, i) => [i, flat(n)])), expect: new Map([[rx, n * p.senders]]) };
    },
  };
}

export function pipeline(p: PipelinePlan): Topology {
  if (p.stages < 2) throw new Error(`a pipeline needs at least 2 stages, got ${p.stages}`);
  const last = p.stages - 1;
  const roles = Array.from({ length: p.stages }, (_, i): ScaleRole => (i === 0 ? { kind: 'source', to: 1 } : i === last ? { kind: 'sink' } : { kind: 'forward', to: i + 1 }));
  return {
    name: 'pipeline',
    prefix: 'stage-',
    roles,
    edges: Array.from({ length: last }, (_, i): [number, number] => [i, i + 1]),
    ratePerSec: 0,
    run() {
      const n = p.messages;
      return { commands: new Map([[0, flat(n)]]), expect: new Map([[last, n]]) };
    },
  };
}

/**
 * Random pairs, paced at `p.ratePerSec` in all; or, `flatOut`, the same
 * actors and peers each sending `p.ratePerSec × p.seconds / actors` messages
 * at once (what the machine can deliver, not whether it keeps up with a rate).
 */
export function randomPairs(p: RandomPlan, flatOut = false): Topology {
  const n = p.actors;
  const perActor = p.ratePerSec / n;
  const sets = Array.from({ length: n }, (_, i) => peerSet(i, n, p.peers, 0x5eed + i));
  // One channel per pair that talks, whichever way.
  const edges: Array<[number, number]> = [];
  const seen = new Set<number>();
  sets.forEach((set, a) => {
    for (const b of set) {
      const key = Math.min(a, b) * n + Math.max(a, b);
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push([a, b]);
    }
  });
  return {
    name: flatOut ? 'random-pairs-max' : 'random-pairs',
    prefix: 'peer-',
    roles: sets.map((peers): ScaleRole => ({ kind: 'peer', nodes: n, peers })),
    edges,
    ratePerSec: flatOut ? 0 : p.ratePerSec,
    run(k) {
      const sweep = k === 0;
      const seeds = sets.map((_, i) => (k + 1000) * 1_000_003 + i * 7919 + 1);
      const counts = sets.map((set) => (sweep ? set.length : Math.max(1, Math.round(perActor * p.seconds))));
      const expect = peerExpectations(sets, counts, seeds, sweep);
      return {
        commands: new Map(Array.from({ length: n }, (_, i) => [i, { op: 'go', count: counts[i]!, ratePerSec: flatOut ? 0 : perActor, seed: seeds[i]!, sweep } satisfies ScaleCommand])),
        expect: new Map(expect.map((e, i) => [i, e])),
      };
    },
  };
}
