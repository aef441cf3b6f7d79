/**
 * The records the executor keeps of what it did (faults, tree operations,
 * reloads, the escalation check) and the small tools it does it with.
 */
import type { ActorSystem } from '../../src/index.js';
import { DYN_SUPERVISOR } from './soak-tree.js';

/** Tree operations (spawn, stop, restart, reload) one at a time, so a reload sees the tree it was drawn from. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.#tail.then(fn);
    this.#tail = r.catch(() => {});
    return r;
  }
}

export interface ReloadRecord {
  valid: boolean;
  kind: string;
  at: number;
  /** valid: the change applyTree had to report; got: what it reported. */
  expect?: string;
  got?: string[];
  /** The error it failed with (a valid one should not; an invalid one must, with ERR_INVALID_TREE). */
  error?: { code: string; message: string };
  /** invalid: the running tree (dynamic children aside) is the same afterwards. */
  unchanged?: boolean;
  /** valid: the state of the actor it changes, as status() had it just before applyTree. */
  targetState?: string;
}

export interface EscalationRecord {
  sentAt: number;
  escalated: boolean;
  reason?: string;
  /** The victim started again after the escalation. */
  back: boolean;
  askOutcome?: string;
}

export interface TreeOpStats {
  ok: number;
  failed: Record<string, number>;
  /** The first message of each failure code. */
  messages: Record<string, string>;
}

export interface ExecStats {
  faults: Record<string, number>;
  faultsOnDynamic: Record<string, number>;
  operatorRestarts: TreeOpStats;
  stopStarts: TreeOpStats;
  spawns: TreeOpStats;
  dynStops: TreeOpStats;
  reloads: ReloadRecord[];
  escalation: EscalationRecord | null;
  publishCountMismatch: Array<{ id: number; subject: string; expected: number; reached: number }>;
  /** Ops not carried out because the system had stopped by itself. */
  skipped: number;
}

export function newStats(): ExecStats {
  const tree = (): TreeOpStats => ({ ok: 0, failed: {}, messages: {} });
  return { faults: {}, faultsOnDynamic: {}, operatorRestarts: tree(), stopStarts: tree(), spawns: tree(), dynStops: tree(), reloads: [], escalation: null, publishCountMismatch: [], skipped: 0 };
}

export const codeOf = (err: unknown): string => (err as { code?: string })?.code ?? (err as Error)?.name ?? 'unknown';
export const bump = (r: Record<string, number>, k: string): void => void (r[k] = (r[k] ?? 0) + 1);
export function failed(stats: TreeOpStats, code: string, err: unknown): void {
  bump(stats.failed, code);
  stats.messages[code] ??= (err as Error)?.message ?? String(err);
}
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Does subject `s` match pattern `p` (`*` one token, `>` one or more trailing ones)? */
export function matches(p: string, s: string): boolean {
  const pt = p.split('.');
  const st = s.split('.');
  for (let i = 0; i < pt.length; i++) {
    if (pt[i] === '>') return st.length > i;
    if (i >= st.length || (pt[i] !== '*' && pt[i] !== st[i])) return false;
  }
  return pt.length === st.length;
}

/** The tree as it runs, without the dynamic children (which come and go by themselves). */
export function staticTree(system: ActorSystem): string {
  const t = system.tree;
  return JSON.stringify({ ...t, children: t.children.map((c) => (c.id === DYN_SUPERVISOR && c.kind === 'supervisor' ? { ...c, children: [] } : c)) });
}
