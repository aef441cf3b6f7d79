import { isDeepStrictEqual } from 'node:util';
import type { ResolvedChildSpec, ResolvedNode, ResolvedSupervisorSpec } from './spec.js';

/** One change a new tree makes to a running one, in the order it is applied. */
export type TreeChange =
  | { kind: 'remove'; id: string; parent: string }
  | { kind: 'configure'; id: string; config: unknown }
  | { kind: 'log-level'; id: string; level: string | undefined }
  | { kind: 'restart'; id: string; spec: ResolvedChildSpec; fields: string[] }
  | { kind: 'supervisor'; id: string; spec: ResolvedSupervisorSpec; fields: string[] }
  | { kind: 'add'; id: string; parent: string; node: ResolvedNode };

/** Child fields a running incarnation can take without a restart. */
const LIVE_FIELDS = new Set(['config', 'logLevel']);
const SUPERVISOR_FIELDS = ['strategy', 'intensity', 'periodMs', 'autoShutdown', 'restart', 'significant', 'shutdown', 'template'] as const;

interface Placed {
  node: ResolvedNode;
  parent: string | null;
}

function index(root: ResolvedSupervisorSpec): Map<string, Placed> {
  const out = new Map<string, Placed>();
  const visit = (n: ResolvedNode, parent: string | null): void => {
    out.set(n.id, { node: n, parent });
    if (n.kind === 'supervisor') for (const c of n.children) visit(c, n.id);
  };
  visit(root, null);
  return out;
}

/** Start order of the whole tree: parents before children, siblings in their start order. */
function order(root: ResolvedSupervisorSpec): string[] {
  const out: string[] = [];
  const visit = (n: ResolvedNode): void => {
    out.push(n.id);
    if (n.kind === 'supervisor') n.children.forEach(visit);
  };
  visit(root);
  return out;
}

/**
 * What it takes to turn the running tree `from` into `to`: removals first
 * (newest first), then in-place changes, then additions (in start order, so
 * dependencies come up before their dependants). A node that moved to
 * another parent, or changed between actor and supervisor, is removed and
 * added. Changing only `config` or `logLevel` needs no restart.
 */
export function diffTrees(running: ResolvedSupervisorSpec, to: ResolvedSupervisorSpec): TreeChange[] {
  // Children spawned under a simple_one_for_one supervisor are not part of
  // any file: while it stays simple_one_for_one they are left as they are.
  const keep = new Set<string>();
  const visitTo = (n: ResolvedNode): void => {
    if (n.kind !== 'supervisor') return;
    if (n.strategy === 'simple_one_for_one') keep.add(n.id);
    n.children.forEach(visitTo);
  };
  visitTo(to);
  const strip = (n: ResolvedSupervisorSpec): ResolvedSupervisorSpec => ({
    ...n,
    children: n.strategy === 'simple_one_for_one' && keep.has(n.id) ? [] : n.children.map((c) => (c.kind === 'supervisor' ? strip(c) : c)),
  });
  const from = strip(running);
  const before = index(from);
  const after = index(to);
  const moved = (id: string): boolean => {
    const a = before.get(id);
    const b = after.get(id);
    return !!a && !!b && (a.parent !== b.parent || a.node.kind !== b.node.kind);
  };
  const gone = order(from).filter((id) => before.get(id)!.parent !== null && (!after.has(id) || moved(id)));
  const removals: TreeChange[] = gone
    .filter((id) => !gone.some((g) => isUnder(before, id, g))) // children of a removed supervisor go with it
    .reverse()
    .map((id) => ({ kind: 'remove', id, parent: before.get(id)!.parent! }));
  const updates: TreeChange[] = [];
  for (const id of order(to)) {
    const a = before.get(id);
    const b = after.get(id)!;
    if (!a || moved(id)) continue;
    if (a.node.kind === 'child' && b.node.kind === 'child') {
      const fields = changedFields(a.node, b.node);
      const restart = fields.filter((f) => !LIVE_FIELDS.has(f));
      if (restart.length > 0) updates.push({ kind: 'restart', id, spec: b.node, fields });
      else {
        if (fields.includes('config')) updates.push({ kind: 'configure', id, config: b.node.config });
        if (fields.includes('logLevel')) updates.push({ kind: 'log-level', id, level: b.node.logLevel });
      }
    } else if (a.node.kind === 'supervisor' && b.node.kind === 'supervisor') {
      const was = a.node;
      const now = b.node;
      const fields = SUPERVISOR_FIELDS.filter((f) => !isDeepStrictEqual(was[f], now[f]));
      if (fields.length > 0) updates.push({ kind: 'supervisor', id, spec: now, fields: [...fields] });
    }
  }
  const additions: TreeChange[] = [];
  for (const id of order(to)) {
    const b = after.get(id)!;
    if (b.parent === null) continue;
    if (additions.some((x) => x.kind === 'add' && isUnder(after, id, x.id))) continue; // comes with its new parent
    if (!before.has(id) || moved(id)) additions.push({ kind: 'add', id, parent: b.parent, node: b.node });
  }
  return [...removals, ...updates, ...additions];
}

function changedFields(a: ResolvedChildSpec, b: ResolvedChildSpec): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ResolvedChildSpec>;
  return [...keys].filter((k) => k !== 'kind' && k !== 'id' && !isDeepStrictEqual(a[k], b[k]));
}

function isUnder(idx: Map<string, Placed>, id: string, ancestor: string): boolean {
  for (let p = idx.get(id)?.parent ?? null; p !== null; p = idx.get(p)?.parent ?? null) if (p === ancestor) return true;
  return false;
}
