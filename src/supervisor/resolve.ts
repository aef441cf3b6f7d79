import { availableParallelism } from 'node:os';
import type { z } from 'zod';
import { DEFAULT_MAILBOX_WAIT_MS } from '../defaults.js';
import { InvalidTreeError, type SpecProblem } from '../errors.js';
import {
  DEFAULT_BACKOFF_RANDOM_FACTOR,
  DEFAULT_BACKOFF_RESET_AFTER_MS,
  DEFAULT_CHILD_RING_BYTES,
  DEFAULT_DEADLINE_MS,
  DEFAULT_INIT_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MISSES,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_INTENSITY,
  DEFAULT_MAILBOX_CAPACITY,
  DEFAULT_MAX_REDELIVERIES,
  DEFAULT_PERIOD_MS,
  DEFAULT_POOL_IDLE_TIMEOUT_MS,
  DEFAULT_POOL_MIN_THREADS,
  DEFAULT_POOL_QUEUE_PER_THREAD,
  DEFAULT_SHUTDOWN_MS,
} from './defaults.js';
import { startOrder } from './order.js';
import { childSchema, spawnSchema, supervisorSchema } from './schema.js';
import type { ChildSpec, ChildTemplate, ResolvedChildSpec, ResolvedNode, ResolvedSupervisorSpec } from './spec.js';

/**
 * From a tree as written to a resolved tree: validate with the schemas,
 * collect every problem (path and reason) in one pass, fill in the defaults
 * and put siblings in start order.
 */

function problemsOf(error: z.ZodError, base: string): SpecProblem[] {
  return error.issues.map((i) => ({ path: joinPath(base, i.path), message: i.message }));
}

function joinPath(base: string, path: PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

export function resolveChild(raw: ChildSpec | (ChildTemplate & { id: string }), _path = 'child'): ResolvedChildSpec {
  const hb = raw.heartbeat;
  const b = raw.backoff;
  const p = raw.pool;
  const maxThreads = p?.maxThreads ?? Math.max(p?.minThreads ?? 1, availableParallelism());
  return {
    kind: 'child',
    id: raw.id,
    module: (raw.module ?? p?.module)!,
    pool: p
      ? {
          minThreads: p.minThreads ?? Math.min(DEFAULT_POOL_MIN_THREADS, maxThreads),
          maxThreads,
          maxQueue: p.maxQueue ?? maxThreads * DEFAULT_POOL_QUEUE_PER_THREAD,
          idleTimeoutMs: p.idleTimeout ?? DEFAULT_POOL_IDLE_TIMEOUT_MS,
        }
      : null,
    config: raw.config,
    restart: raw.restart ?? 'permanent',
    shutdown: raw.shutdown ?? DEFAULT_SHUTDOWN_MS,
    significant: raw.significant ?? false,
    dependencies: raw.dependencies ?? [],
    heartbeat: hb === false ? null : { intervalMs: hb?.intervalMs ?? DEFAULT_HEARTBEAT_MS, misses: hb?.misses ?? DEFAULT_HEARTBEAT_MISSES },
    deadlineMs: raw.deadlineMs ?? DEFAULT_DEADLINE_MS,
    initTimeoutMs: raw.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
    backoff: b ? { minMs: b.min, maxMs: b.max, randomFactor: b.randomFactor ?? DEFAULT_BACKOFF_RANDOM_FACTOR, resetAfterMs: b.resetAfter ?? DEFAULT_BACKOFF_RESET_AFTER_MS } : null,
    resourceLimits: raw.resourceLimits,
    maxRedeliveries: raw.maxRedeliveries ?? DEFAULT_MAX_REDELIVERIES,
    ringBytes: raw.ringBytes ?? DEFAULT_CHILD_RING_BYTES,
    standby: raw.standby ?? false,
    subscribe: raw.subscribe ?? [],
    breaker: raw.breaker ? { failures: raw.breaker.failures, resetMs: raw.breaker.resetMs } : null,
    mailbox: { capacity: raw.mailbox?.capacity ?? DEFAULT_MAILBOX_CAPACITY, overflow: raw.mailbox?.overflow ?? 'backpressure', waitMs: raw.mailbox?.waitMs ?? DEFAULT_MAILBOX_WAIT_MS },
    logLevel: raw.logLevel,
  };
}

/**
 * Validate a whole tree and fill in defaults. Every problem is collected
 * (path and reason) before anything starts; throws InvalidTreeError.
 */
export function resolveTree(raw: unknown, path = 'tree'): ResolvedSupervisorSpec {
  const problems: SpecProblem[] = [];
  const ids = new Map<string, string>();
  const root = resolveNode(raw, path, problems, ids);
  if (root && root.kind !== 'supervisor') problems.push({ path, message: 'the root must be a supervisor (an object with children)' });
  if (problems.length > 0 || !root || root.kind !== 'supervisor') throw new InvalidTreeError(problems);
  return root;
}

/** Validate one child spec for a dynamic spawn into `parent`. */
export function resolveDynamicChild(raw: unknown, parent: ResolvedSupervisorSpec, existing: ReadonlySet<string>): ResolvedChildSpec {
  const problems: SpecProblem[] = [];
  let spec: unknown = raw;
  if (parent.template) {
    // simple_one_for_one: the spawn names the child and may override the template's config.
    const r = spawnSchema.safeParse(raw);
    if (!r.success) throw new InvalidTreeError(problemsOf(r.error, 'spawn'));
    spec = { ...parent.template, id: r.data.id, config: r.data.config ?? parent.template.config };
  }
  const r = childSchema.safeParse(spec);
  if (!r.success) throw new InvalidTreeError(problemsOf(r.error, 'spawn'));
  if (existing.has(r.data.id)) problems.push({ path: 'spawn.id', message: `'${r.data.id}' is already used in this system` });
  for (const [i, d] of (r.data.dependencies ?? []).entries()) {
    if (!parent.children.some((c) => c.id === d)) problems.push({ path: `spawn.dependencies[${i}]`, message: `unknown sibling '${d}' under '${parent.id}'` });
  }
  if (problems.length) throw new InvalidTreeError(problems);
  return resolveChild(r.data);
}

function resolveNode(raw: unknown, path: string, problems: SpecProblem[], ids: Map<string, string>): ResolvedNode | null {
  const isSupervisor = typeof raw === 'object' && raw !== null && 'children' in raw;
  if (!isSupervisor) {
    const r = childSchema.safeParse(raw);
    if (!r.success) {
      problems.push(...problemsOf(r.error, path));
      return null;
    }
    claimId(r.data.id, path, problems, ids);
    return resolveChild(r.data, path);
  }
  const r = supervisorSchema.safeParse(raw);
  if (!r.success) {
    problems.push(...problemsOf(r.error, path));
    // Keep going into the children so one pass lists every problem.
    const kids = (raw as { children?: unknown }).children;
    if (Array.isArray(kids)) kids.forEach((c, i) => resolveNode(c, `${path}.children[${i}]`, problems, ids));
    return null;
  }
  const s = r.data;
  claimId(s.id, path, problems, ids);
  const children: ResolvedNode[] = [];
  s.children.forEach((c, i) => {
    const node = resolveNode(c, `${path}.children[${i}]`, problems, ids);
    if (node) children.push(node);
  });
  if (s.strategy === 'simple_one_for_one') {
    if (!s.template) problems.push({ path: `${path}.template`, message: 'is required for strategy simple_one_for_one' });
    if (s.children.length > 0) problems.push({ path: `${path}.children`, message: 'must be empty for simple_one_for_one; add children with system.spawn()' });
  } else if (s.template) {
    problems.push({ path: `${path}.template`, message: 'is only for strategy simple_one_for_one' });
  }
  const autoShutdown = s.autoShutdown ?? 'never';
  const restartType = s.restart ?? 'permanent';
  if (autoShutdown !== 'never' && restartType === 'permanent') {
    problems.push({ path: `${path}.restart`, message: `must be transient or temporary when autoShutdown is ${autoShutdown} (a permanent supervisor would be restarted as soon as it shuts itself down)` });
  }
  const ordered = startOrder(children, path, problems);
  return {
    kind: 'supervisor',
    id: s.id,
    strategy: s.strategy,
    intensity: s.intensity ?? DEFAULT_INTENSITY,
    periodMs: s.period ?? DEFAULT_PERIOD_MS,
    autoShutdown,
    restart: restartType,
    significant: s.significant ?? false,
    dependencies: s.dependencies ?? [],
    shutdown: s.shutdown ?? 'infinity',
    template: s.template ?? null,
    children: ordered,
  };
}

function claimId(id: string, path: string, problems: SpecProblem[], ids: Map<string, string>): void {
  const prev = ids.get(id);
  if (prev !== undefined) problems.push({ path: `${path}.id`, message: `'${id}' is already used at ${prev}` });
  else ids.set(id, path);
}
