/**
 * The whole run, drawn from the seed before anything starts: when each
 * message, fault, reload and dynamic child's life happens, to whom, with
 * which ids. Timing on a loaded 2-core machine still varies from run to run;
 * what a seed fixes is this plan.
 */
import type { FaultKind } from '../../test/fixtures/soak/soak-actor.js';
import type { Rng } from './soak-rng.js';
import { DYN_SUBJECT, INVALID_RELOADS, PUBLISH_SUBJECTS, REQUEST_SUBJECTS, VICTIM, type InvalidReload, type SoakTree, type ValidReload } from './soak-tree.js';

/** Events per second at rate 1 (SOAK_RATE scales them all but the dynamic children's lives). */
export const RATES = {
  tell: 40,
  ask: 10,
  publish: 6,
  dynPublish: 0.5,
  request: 2,
  relay: 10,
  peerAsk: 4,
  actorPublish: 3,
  actorRequest: 1.5,
  fault: 1.5,
  reloadValid: 0.25,
  reloadInvalid: 0.25,
  spawn: 2,
} as const;

export type FaultChoice = FaultKind | 'undecodable' | 'operator-restart' | 'stop-start';
export const FAULT_WEIGHTS: Readonly<Record<FaultChoice, number>> = {
  throw: 3,
  reject: 2,
  exit: 2,
  hang: 1.5,
  oom: 0.8,
  poison: 1.5,
  undecodable: 2,
  'operator-restart': 1.2,
  'stop-start': 0.8,
};
const VALID_WEIGHTS: Readonly<Record<ValidReload, number>> = { config: 3, 'restart-field': 2, 'supervisor-field': 1, 'log-level': 1 };
const ASK_TIMEOUTS_MS = [100, 250, 1000, 3000] as const;
/** Long enough that an ask whose message crashes its receiver settles by the crash, not by this. */
export const FAULT_ASK_TIMEOUT_MS = 10_000;
/** An undecodable ask should fail at once with the decode error; this only ends the wait if it does not. */
export const UNDECODABLE_ASK_TIMEOUT_MS = 4000;

export type Op =
  | { t: number; type: 'tell'; id: number; to: string; priority?: 'high' }
  | { t: number; type: 'ask'; id: number; to: string; timeout: number }
  | { t: number; type: 'publish'; id: number; subject: string }
  | { t: number; type: 'request'; id: number; subject: string; timeout: number }
  | { t: number; type: 'relay'; id: number; via: string; to: string; inner: number }
  | { t: number; type: 'peer-ask'; id: number; via: string; to: string; inner: number; timeout: number }
  | { t: number; type: 'actor-publish'; id: number; via: string; subject: string; inner: number }
  | { t: number; type: 'actor-request'; id: number; via: string; subject: string; inner: number; timeout: number }
  | { t: number; type: 'fault'; id: number; to: string; fault: FaultKind; asAsk: boolean }
  | { t: number; type: 'undecodable'; id: number; to: string; asAsk: boolean }
  | { t: number; type: 'operator-restart'; to: string }
  | { t: number; type: 'stop-start'; to: string; downMs: number }
  | { t: number; type: 'reload-valid'; kind: ValidReload; seed: number }
  | { t: number; type: 'reload-invalid'; kind: InvalidReload; seed: number }
  | { t: number; type: 'escalation'; ids: number[] }
  | { t: number; type: 'spawn'; chain: DynChain };

/** One dynamic child's life: spawned, sent to and asked, then stopped (or it ends itself), then a few late messages. */
export interface DynChain {
  id: string;
  t: number;
  ops: Op[];
  end: { t: number; how: 'stop' | 'self'; id: number };
  late: Op[];
}

export interface Plan {
  ops: Op[];
  chains: number;
  ids: number;
}

export const isDyn = (id: string): boolean => id.startsWith('dyn-');

export function makePlan(rng: Rng, tree: SoakTree, durationMs: number, rate: number): Plan {
  let nextId = 1;
  const id = (): number => nextId++;
  const statics = tree.statics.map((a) => a.id);
  const targets = [...statics, VICTIM];
  const ops: Op[] = [];
  const poisson = (perSecond: number, each: (t: number) => void): void => {
    if (perSecond <= 0) return;
    for (let t = rng.gapMs(perSecond); t < durationMs; t += rng.gapMs(perSecond)) each(t);
  };
  const timeout = (): number => rng.pick(ASK_TIMEOUTS_MS);
  const other = (than: string, from: readonly string[]): string => {
    const xs = from.filter((x) => x !== than);
    return xs.length ? rng.pick(xs) : than;
  };

  // The categories are drawn one after another, each over the whole run, so
  // changing one rate leaves the others' draws where they were only up to it.
  poisson(RATES.tell * rate, (t) => ops.push({ t, type: 'tell', id: id(), to: rng.pick(targets), ...(rng.chance(0.1) ? { priority: 'high' as const } : {}) }));
  poisson(RATES.ask * rate, (t) => ops.push({ t, type: 'ask', id: id(), to: rng.pick(targets), timeout: timeout() }));
  poisson(RATES.publish * rate, (t) => ops.push({ t, type: 'publish', id: id(), subject: rng.pick(PUBLISH_SUBJECTS) }));
  poisson(RATES.dynPublish * rate, (t) => ops.push({ t, type: 'publish', id: id(), subject: DYN_SUBJECT }));
  poisson(RATES.request * rate, (t) => ops.push({ t, type: 'request', id: id(), subject: rng.pick(REQUEST_SUBJECTS), timeout: timeout() }));
  poisson(RATES.relay * rate, (t) => {
    const via = rng.pick(statics);
    ops.push({ t, type: 'relay', id: id(), via, to: other(via, targets), inner: id() });
  });
  poisson(RATES.peerAsk * rate, (t) => {
    const via = rng.pick(statics);
    ops.push({ t, type: 'peer-ask', id: id(), via, to: other(via, targets), inner: id(), timeout: timeout() });
  });
  poisson(RATES.actorPublish * rate, (t) => ops.push({ t, type: 'actor-publish', id: id(), via: rng.pick(statics), subject: rng.pick(PUBLISH_SUBJECTS), inner: id() }));
  poisson(RATES.actorRequest * rate, (t) => ops.push({ t, type: 'actor-request', id: id(), via: rng.pick(statics), subject: rng.pick(REQUEST_SUBJECTS), inner: id(), timeout: timeout() }));
  poisson(RATES.fault * rate, (t) => {
    const kind = rng.weighted(FAULT_WEIGHTS);
    const to = rng.pick(statics);
    if (kind === 'undecodable') ops.push({ t, type: 'undecodable', id: id(), to, asAsk: rng.chance(0.5) });
    else if (kind === 'operator-restart') ops.push({ t, type: 'operator-restart', to });
    else if (kind === 'stop-start') ops.push({ t, type: 'stop-start', to, downMs: rng.int(50, 400) });
    else ops.push({ t, type: 'fault', id: id(), to, fault: kind, asAsk: rng.chance(0.3) });
  });
  poisson(RATES.reloadValid * rate, (t) => ops.push({ t, type: 'reload-valid', kind: rng.weighted(VALID_WEIGHTS), seed: rng.int(1, 0x7fffffff) }));
  poisson(RATES.reloadInvalid * rate, (t) => ops.push({ t, type: 'reload-invalid', kind: rng.pick(INVALID_RELOADS), seed: rng.int(1, 0x7fffffff) }));
  ops.push({ t: durationMs * (0.35 + 0.3 * rng.next()), type: 'escalation', ids: [id(), id(), id()] });

  let chains = 0;
  poisson(RATES.spawn, (t) => {
    const child = `dyn-${++chains}`;
    const life = rng.int(300, 2500);
    const chainOps: Op[] = [];
    const n = rng.int(2, 8);
    for (let i = 0; i < n; i++) {
      const at = t + (life * (i + 1)) / (n + 1);
      const hub = rng.pick(tree.hubs);
      // Each child's first act is to write to the hub, so each takes a sender slot there.
      const kind = i === 0 ? 'relayOut' : rng.weighted({ tell: 4, ask: 2, relayOut: 3, relayIn: 1, peerAskOut: 1, peerAskIn: 1, fault: 0.4, undecodable: 0.3 });
      switch (kind) {
        case 'tell':
          chainOps.push({ t: at, type: 'tell', id: id(), to: child });
          break;
        case 'ask':
          chainOps.push({ t: at, type: 'ask', id: id(), to: child, timeout: timeout() });
          break;
        case 'relayOut':
          chainOps.push({ t: at, type: 'relay', id: id(), via: child, to: hub, inner: id() });
          break;
        case 'relayIn':
          chainOps.push({ t: at, type: 'relay', id: id(), via: rng.pick(statics), to: child, inner: id() });
          break;
        case 'peerAskOut':
          chainOps.push({ t: at, type: 'peer-ask', id: id(), via: child, to: hub, inner: id(), timeout: timeout() });
          break;
        case 'peerAskIn':
          chainOps.push({ t: at, type: 'peer-ask', id: id(), via: rng.pick(statics), to: child, inner: id(), timeout: timeout() });
          break;
        case 'fault':
          chainOps.push({ t: at, type: 'fault', id: id(), to: child, fault: rng.pick(['throw', 'reject', 'exit', 'poison'] as const), asAsk: rng.chance(0.3) });
          break;
        case 'undecodable':
          chainOps.push({ t: at, type: 'undecodable', id: id(), to: child, asAsk: rng.chance(0.5) });
          break;
      }
    }
    const end = { t: t + life, how: rng.chance(0.6) ? ('stop' as const) : ('self' as const), id: id() };
    const late: Op[] = [];
    if (rng.chance(0.25)) {
      const at = end.t + rng.int(20, 300);
      late.push(rng.chance(0.5) ? { t: at, type: 'tell', id: id(), to: child } : { t: at, type: 'ask', id: id(), to: child, timeout: timeout() });
    }
    ops.push({ t, type: 'spawn', chain: { id: child, t, ops: chainOps, end, late } });
  });

  ops.sort((a, b) => a.t - b.t);
  return { ops, chains, ids: nextId - 1 };
}
