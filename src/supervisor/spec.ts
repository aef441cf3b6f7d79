import { DEFAULT_MAILBOX_WAIT_MS } from '../defaults.js';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { validatePattern } from '../bus/subject.js';
import { InvalidTreeError, type OverflowPolicy, type SpecProblem } from '../errors.js';

/** Restart intensity: more than this many restarts within `period`… */
export const DEFAULT_INTENSITY = 3;
/** …milliseconds and the supervisor gives up and escalates. */
export const DEFAULT_PERIOD_MS = 5000;
/** Graceful shutdown budget of a child before it is terminated, ms. */
export const DEFAULT_SHUTDOWN_MS = 5000;
/**
 * Worker heartbeat period, ms; a child is declared hung after `misses` periods
 * without one. Every wake-up of an idle worker costs ~100 µs of CPU on a small
 * VM, so the default favours idle cost (100 idle actors ≈ 1 % of a core) over
 * detection speed (3 s); critical actors can ask for 10 ms.
 */
export const DEFAULT_HEARTBEAT_MS = 1000;
export const DEFAULT_HEARTBEAT_MISSES = 3;
/** Times a message may be redelivered after crashing its actor before it is dead-lettered as poison. */
export const DEFAULT_MAX_REDELIVERIES = 1;
/** Pool actors: threads kept alive when idle, and how long an idle extra thread lives, ms. */
export const DEFAULT_POOL_MIN_THREADS = 1;
export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 30_000;
/** Pool actors: tasks queued per thread at most (beyond that the pool stops taking mail). */
export const DEFAULT_POOL_QUEUE_PER_THREAD = 16;
/** Data-area size of each ring into a child's inbox, bytes. */
export const DEFAULT_CHILD_RING_BYTES = 256 * 1024;

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must use only letters, digits and _ . : -')
  .refine((s) => !s.startsWith('$'), 'must not start with $ (reserved for the system)');

const restart = z.enum(['permanent', 'transient', 'temporary']);
const ms = z.number().int().min(0);

const backoff = z.strictObject({
  min: ms,
  max: ms,
  randomFactor: z.number().min(0).max(1).optional(),
  resetAfter: ms.optional(),
});

const mailbox = z.strictObject({
  capacity: z.number().int().min(0).max(2 ** 30).optional(),
  overflow: z.enum(['backpressure', 'drop-newest', 'drop-oldest', 'fail']).optional(),
  waitMs: z.number().int().min(1).max(2 ** 31 - 1).optional(),
});

const pool = z.strictObject({
  module: z.string().min(1),
  minThreads: z.number().int().min(0).max(256).optional(),
  maxThreads: z.number().int().min(1).max(256).optional(),
  maxQueue: z.number().int().min(0).optional(),
  idleTimeout: ms.optional(),
});

/** A subscription pattern in a tree: its problem is reported like any other field's. */
function patternIssue(p: string, ctx: z.core.$RefinementCtx): void {
  try {
    validatePattern(p, 'subscribe');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
}

const heartbeat = z.union([
  z.literal(false),
  z.strictObject({ intervalMs: z.number().int().min(1).optional(), misses: z.number().int().min(1).optional() }),
]);

const resourceLimits = z.strictObject({
  maxOldGenerationSizeMb: z.number().positive().optional(),
  maxYoungGenerationSizeMb: z.number().positive().optional(),
  codeRangeSizeMb: z.number().positive().optional(),
  stackSizeMb: z.number().positive().optional(),
});

const childFields = {
  module: z.string().min(1).optional(),
  pool: pool.optional(),
  config: z.unknown().optional(),
  restart: restart.optional(),
  shutdown: z.union([ms, z.literal('brutal_kill'), z.literal('infinity')]).optional(),
  significant: z.boolean().optional(),
  dependencies: z.array(id).optional(),
  heartbeat: heartbeat.optional(),
  deadlineMs: ms.optional(),
  backoff: backoff.optional(),
  resourceLimits: resourceLimits.optional(),
  maxRedeliveries: z.number().int().min(0).optional(),
  ringBytes: z.number().int().optional(),
  standby: z.boolean().optional(),
  mailbox: mailbox.optional(),
  breaker: z.strictObject({ failures: z.number().int().min(1), resetMs: z.number().int().min(1).max(2 ** 31 - 1) }).optional(),
  subscribe: z.array(z.string().superRefine(patternIssue)).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
};

/** A child runs `module` in its own worker, or is a `pool` of workers for a stateless handler: one of the two. */
function oneRunner(c: { module?: string | undefined; pool?: unknown }, ctx: z.core.$RefinementCtx): void {
  if ((c.module === undefined) === (c.pool === undefined)) {
    ctx.addIssue({ code: 'custom', path: c.module === undefined ? ['module'] : ['pool'], message: c.module === undefined ? 'is required (or give `pool` for a pool actor)' : 'cannot be given together with `module`: a child is an actor or a pool' });
  }
  const p = c.pool as { minThreads?: number; maxThreads?: number } | undefined;
  if (p?.minThreads !== undefined && p.maxThreads !== undefined && p.minThreads > p.maxThreads) {
    ctx.addIssue({ code: 'custom', path: ['pool', 'minThreads'], message: `must not exceed maxThreads (${p.maxThreads})` });
  }
}

const childSchema = z.strictObject({ id, ...childFields }).superRefine(oneRunner);
/** A simple_one_for_one template: a child without an id (each spawn names its own). */
const templateSchema = z.strictObject(childFields).superRefine(oneRunner);

const supervisorSchema = z.strictObject({
  id,
  strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one']),
  intensity: z.number().int().min(0).optional(),
  period: z.number().int().min(1).optional(),
  autoShutdown: z.enum(['never', 'any_significant', 'all_significant']).optional(),
  restart: restart.optional(),
  significant: z.boolean().optional(),
  dependencies: z.array(id).optional(),
  shutdown: z.union([ms, z.literal('brutal_kill'), z.literal('infinity')]).optional(),
  template: templateSchema.optional(),
  children: z.array(z.unknown()),
});

export type RestartType = z.infer<typeof restart>;
export type Strategy = z.infer<typeof supervisorSchema>['strategy'];
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';
export type Shutdown = number | 'brutal_kill' | 'infinity';
export type BackoffOptions = z.infer<typeof backoff>;
export type ResourceLimits = z.infer<typeof resourceLimits>;

/** A worker actor as written in a tree (every field but id and module optional). */
export type ChildSpec = z.infer<typeof childSchema>;
export type ChildTemplate = z.infer<typeof templateSchema>;
/** A supervisor as written in a tree. */
export type SupervisorSpec = Omit<z.infer<typeof supervisorSchema>, 'children'> & { children: TreeSpec[] };
export type TreeSpec = SupervisorSpec | ChildSpec;

export interface ResolvedBackoff {
  minMs: number;
  maxMs: number;
  randomFactor: number;
  resetAfterMs: number;
}

export interface ResolvedPoolSpec {
  minThreads: number;
  maxThreads: number;
  maxQueue: number;
  idleTimeoutMs: number;
}

export interface ResolvedChildSpec {
  kind: 'child';
  id: string;
  /** The actor's module, or the pool's task module. */
  module: string;
  /** Set for a pool actor: a stateless handler on a piscina pool instead of one worker. */
  pool: ResolvedPoolSpec | null;
  config: unknown;
  restart: RestartType;
  shutdown: Shutdown;
  significant: boolean;
  dependencies: string[];
  /** null = heartbeat checks off for this child. */
  heartbeat: { intervalMs: number; misses: number } | null;
  /** 0 = no deadline on a single handler. */
  deadlineMs: number;
  backoff: ResolvedBackoff | null;
  resourceLimits: ResourceLimits | undefined;
  maxRedeliveries: number;
  ringBytes: number;
  standby: boolean;
  /** Bound on waiting messages (0 = only the rings' bytes) and what senders do at it. */
  mailbox: { capacity: number; overflow: OverflowPolicy; waitMs: number };
  /** Asks to this actor go through a breaker shared by all callers: open after `failures` failed asks in a row, probe after `resetMs`. */
  breaker: { failures: number; resetMs: number } | null;
  /** Topic patterns the child is subscribed to from the start (kept across restarts, like ctx.subscribe). */
  subscribe: string[];
  /** pino level for this actor; undefined = the system's. */
  logLevel: string | undefined;
}

export interface ResolvedSupervisorSpec {
  kind: 'supervisor';
  id: string;
  strategy: Strategy;
  intensity: number;
  periodMs: number;
  autoShutdown: AutoShutdown;
  restart: RestartType;
  significant: boolean;
  dependencies: string[];
  shutdown: Shutdown;
  template: ChildTemplate | null;
  /** In start order: dependencies first, otherwise as declared. */
  children: ResolvedNode[];
}

export type ResolvedNode = ResolvedChildSpec | ResolvedSupervisorSpec;

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
    deadlineMs: raw.deadlineMs ?? 0,
    backoff: b ? { minMs: b.min, maxMs: b.max, randomFactor: b.randomFactor ?? 0.2, resetAfterMs: b.resetAfter ?? 30_000 } : null,
    resourceLimits: raw.resourceLimits,
    maxRedeliveries: raw.maxRedeliveries ?? DEFAULT_MAX_REDELIVERIES,
    ringBytes: raw.ringBytes ?? DEFAULT_CHILD_RING_BYTES,
    standby: raw.standby ?? false,
    subscribe: raw.subscribe ?? [],
    breaker: raw.breaker ? { failures: raw.breaker.failures, resetMs: raw.breaker.resetMs } : null,
    mailbox: { capacity: raw.mailbox?.capacity ?? 0, overflow: raw.mailbox?.overflow ?? 'backpressure', waitMs: raw.mailbox?.waitMs ?? DEFAULT_MAILBOX_WAIT_MS },
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
    const r = z.strictObject({ id, config: z.unknown().optional() }).safeParse(raw);
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

/**
 * Order siblings so each starts after its dependencies; ties keep the
 * declared order. Unknown dependencies and cycles are problems.
 */
export function startOrder<T extends { id: string; dependencies: string[] }>(nodes: T[], path: string, problems: SpecProblem[]): T[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  nodes.forEach((n, i) => {
    n.dependencies.forEach((d, j) => {
      if (!byId.has(d)) problems.push({ path: `${path}.children[${i}].dependencies[${j}]`, message: `unknown sibling '${d}'` });
    });
  });
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: T, chain: string[]): void => {
    const s = state.get(n.id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...chain.slice(chain.indexOf(n.id)), n.id].join(' → ');
      problems.push({ path: `${path}.children`, message: `dependency cycle: ${cycle}` });
      return;
    }
    state.set(n.id, 'visiting');
    for (const d of n.dependencies) {
      const dep = byId.get(d);
      if (dep) visit(dep, [...chain, n.id]);
    }
    state.set(n.id, 'done');
    out.push(n);
  };
  for (const n of nodes) visit(n, []);
  return out;
}
