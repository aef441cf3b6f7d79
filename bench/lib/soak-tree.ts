/**
 * The soak's supervision tree, drawn from the seed, and the reloads it is put
 * through: valid ones (a changed config, a field that restarts a child, a
 * supervisor field, a log level) with the changes applyTree must report, and
 * invalid ones that must be refused whole.
 */
import type { ChildSpec, ChildTemplate, SupervisorSpec, TreeSpec } from '../../src/index.js';
import type { SoakActorConfig } from '../../test/fixtures/soak/soak-actor.js';
import type { Rng } from './soak-rng.js';

/** Patterns static actors subscribe to (in the tree or with ctx.subscribe), and the subjects traffic uses. */
export const PATTERNS = ['data.a', 'data.b', 'data.*', 'data.c.>', 'data.c.x', 'data.req'] as const;
export const PUBLISH_SUBJECTS = ['data.a', 'data.b', 'data.c.x', 'data.c.y', 'data.none'] as const;
export const REQUEST_SUBJECTS = ['data.a', 'data.b', 'data.req'] as const;
/** Every dynamic child subscribes here (the template's `subscribe`). */
export const DYN_SUBJECT = 'data.dyn';
export const ACK_SUBJECT = 'soak.ack';

export const ROOT = 'root';
export const DYN_SUPERVISOR = 'dyn';
export const ESC_SUPERVISOR = 'esc';
export const VICTIM = 'esc-victim';
/** Restarts the chaos may cause without a supervisor giving up. */
export const GENEROUS = { intensity: 1000, period: 10_000 };
/** The escalation check's supervisor: three crashes in its period escalate it. */
export const ESC_INTENSITY = { intensity: 2, period: 10_000 };
/** Short, so a hung handler is caught quickly; long enough that a busy 2-core machine does not starve a healthy loop past it. */
export const HEARTBEAT = { intervalMs: 100, misses: 4 };
/** Old-generation heap of every static actor: the `oom` fault fills it. */
export const HEAP_LIMIT_MB = 64;
const SHUTDOWN_MS = 2000;

export interface StaticActor {
  id: string;
  supervisor: string;
  maxRedeliveries: number;
  /** Patterns in the tree node's `subscribe`. */
  subscribe: string[];
  /** Patterns taken with ctx.subscribe in init. */
  patterns: string[];
  standby: boolean;
}

export interface SoakTree {
  spec: SupervisorSpec;
  statics: StaticActor[];
  /** The static actor every dynamic child sends to: a sender slot of its inbox per child. */
  hubs: string[];
  supervisors: string[];
}

export function actorConfig(markerDir: string, patterns: string[] = []): SoakActorConfig {
  return { ackSubject: ACK_SUBJECT, markerDir, rev: 0, ...(patterns.length ? { patterns } : {}) };
}

/** The template every dynamic child is spawned from: temporary, so a crash or ctx.stop ends it for good. */
export function dynTemplate(module: string, markerDir: string): ChildTemplate {
  return { module, restart: 'temporary', heartbeat: HEARTBEAT, maxRedeliveries: 1, subscribe: [DYN_SUBJECT], shutdown: SHUTDOWN_MS, config: actorConfig(markerDir) };
}

/**
 * root (one_for_one) ─┬─ sup-1 … sup-k (one_for_one) ── a-1 … a-N, spread at random
 *                     ├─ esc (one_for_one, intensity 2) ── esc-victim
 *                     └─ dyn (simple_one_for_one, temporary children)
 */
export function buildTree(rng: Rng, n: number, module: string, markerDir: string): SoakTree {
  const k = Math.max(1, Math.min(n, rng.int(2, 3)));
  const supervisors = Array.from({ length: k }, (_, i) => `sup-${i + 1}`);
  const statics: StaticActor[] = [];
  const children = new Map<string, ChildSpec[]>(supervisors.map((s) => [s, []]));
  for (let i = 1; i <= n; i++) {
    // Every supervisor gets one actor before any gets a second.
    const supervisor = i <= k ? supervisors[i - 1]! : rng.pick(supervisors);
    const a: StaticActor = {
      id: `a-${i}`,
      supervisor,
      maxRedeliveries: rng.pick([0, 1, 1, 2]),
      subscribe: rng.some(PATTERNS, 0, 2),
      patterns: [],
      standby: rng.chance(0.3),
    };
    a.patterns = rng.some(PATTERNS.filter((p) => !a.subscribe.includes(p)), 0, 1);
    statics.push(a);
    const siblings = children.get(supervisor)!;
    const spec: ChildSpec = {
      id: a.id,
      module,
      config: actorConfig(markerDir, a.patterns),
      heartbeat: HEARTBEAT,
      maxRedeliveries: a.maxRedeliveries,
      resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB },
      shutdown: SHUTDOWN_MS,
      ...(a.standby ? { standby: true } : {}),
      ...(a.subscribe.length ? { subscribe: a.subscribe } : {}),
      ...(rng.chance(0.3) ? { backoff: { min: 5, max: 100 } } : {}),
      ...(siblings.length > 0 && rng.chance(0.3) ? { dependencies: [siblings[siblings.length - 1]!.id] } : {}),
    };
    siblings.push(spec);
  }
  const victim: ChildSpec = { id: VICTIM, module, config: actorConfig(markerDir), heartbeat: HEARTBEAT, maxRedeliveries: 0, shutdown: SHUTDOWN_MS };
  const spec: SupervisorSpec = {
    id: ROOT,
    strategy: 'one_for_one',
    ...GENEROUS,
    children: [
      ...supervisors.map((id): SupervisorSpec => ({ id, strategy: 'one_for_one', ...GENEROUS, children: children.get(id)! })),
      { id: ESC_SUPERVISOR, strategy: 'one_for_one', ...ESC_INTENSITY, children: [victim] },
      { id: DYN_SUPERVISOR, strategy: 'simple_one_for_one', ...GENEROUS, template: dynTemplate(module, markerDir), children: [] },
    ],
  };
  const hubs = [statics[0]!.id];
  return { spec, statics, hubs, supervisors };
}

export type ValidReload = 'config' | 'restart-field' | 'supervisor-field' | 'log-level';
export type InvalidReload = 'bad-restart' | 'unknown-field' | 'zero-heartbeat' | 'duplicate-id' | 'unknown-dependency' | 'bad-pattern' | 'period-too-long' | 'dependency-cycle';
export const INVALID_RELOADS: readonly InvalidReload[] = ['bad-restart', 'unknown-field', 'zero-heartbeat', 'duplicate-id', 'unknown-dependency', 'bad-pattern', 'period-too-long', 'dependency-cycle'];

/** Child `id` anywhere in `tree`. */
export function findChild(tree: TreeSpec, id: string): ChildSpec | undefined {
  if (!('children' in tree)) return tree.id === id ? tree : undefined;
  for (const c of tree.children) {
    const hit = findChild(c, id);
    if (hit) return hit;
  }
  return undefined;
}

function staticSpecs(tree: SupervisorSpec): Array<{ sup: SupervisorSpec; child: ChildSpec }> {
  const out: Array<{ sup: SupervisorSpec; child: ChildSpec }> = [];
  for (const s of tree.children as SupervisorSpec[]) {
    if (s.id === DYN_SUPERVISOR || s.id === ESC_SUPERVISOR) continue;
    for (const c of s.children as ChildSpec[]) out.push({ sup: s, child: c });
  }
  return out;
}

/**
 * A valid change of `current` (a fresh copy; `current` is left as it is) and
 * the change applyTree must report for it.
 */
export function validReload(rng: Rng, current: SupervisorSpec, kind: ValidReload): { tree: SupervisorSpec; expect: { kind: string; id: string }; maxRedeliveries?: number } {
  const tree = structuredClone(current);
  const { sup, child } = rng.pick(staticSpecs(tree));
  switch (kind) {
    case 'config': {
      const cfg = child.config as SoakActorConfig;
      child.config = { ...cfg, rev: cfg.rev + 1 };
      return { tree, expect: { kind: 'configure', id: child.id } };
    }
    case 'restart-field': {
      // A field a running incarnation cannot take: the child restarts under its supervisor.
      const m = ((child.maxRedeliveries ?? 1) + 1) % 3;
      child.maxRedeliveries = m;
      return { tree, expect: { kind: 'restart', id: child.id }, maxRedeliveries: m };
    }
    case 'supervisor-field':
      sup.intensity = sup.intensity === GENEROUS.intensity ? GENEROUS.intensity + 1 : GENEROUS.intensity;
      return { tree, expect: { kind: 'supervisor', id: sup.id } };
    case 'log-level':
      if (child.logLevel === undefined) child.logLevel = 'fatal';
      else delete child.logLevel;
      return { tree, expect: { kind: 'log-level', id: child.id } };
  }
}

/** `current` with one bad field (a fresh copy): applyTree must refuse it whole with InvalidTreeError. */
export function invalidReload(rng: Rng, current: SupervisorSpec, kind: InvalidReload): SupervisorSpec {
  const tree = structuredClone(current) as SupervisorSpec;
  const specs = staticSpecs(tree);
  const { sup, child } = rng.pick(specs);
  // A valid change rides along, so a reload that applied part of the tree would show.
  const other = rng.pick(specs).child;
  const cfg = other.config as SoakActorConfig;
  other.config = { ...cfg, rev: cfg.rev + 100 };
  const bad = child as Record<string, unknown>;
  switch (kind) {
    case 'bad-restart':
      bad.restart = 'sometimes';
      break;
    case 'unknown-field':
      bad.restartt = 'permanent';
      break;
    case 'zero-heartbeat':
      bad.heartbeat = { intervalMs: 0, misses: 3 };
      break;
    case 'duplicate-id':
      (sup.children as TreeSpec[]).push({ ...child, dependencies: [] });
      break;
    case 'unknown-dependency':
      bad.dependencies = ['no-such-sibling'];
      break;
    case 'bad-pattern':
      bad.subscribe = ['data..x'];
      break;
    case 'period-too-long':
      sup.period = 2 ** 31;
      break;
    case 'dependency-cycle': {
      const sibs = sup.children as ChildSpec[];
      if (sibs.length < 2) {
        bad.dependencies = [child.id];
        break;
      }
      sibs[0]!.dependencies = [sibs[1]!.id];
      sibs[1]!.dependencies = [sibs[0]!.id];
      break;
    }
  }
  return tree;
}
