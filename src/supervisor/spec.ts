import type { z } from 'zod';
import type { OverflowPolicy } from '../errors.js';
import type { backoff, childSchema, resourceLimits, restart, supervisorSchema, templateSchema } from './schema.js';

/**
 * The public types of a supervision tree: as written (every field but the
 * essentials optional, described by the schemas in schema.ts) and as
 * resolved (every default filled in, by resolve.ts).
 */

export type RestartType = z.infer<typeof restart>;
export type Strategy = z.infer<typeof supervisorSchema>['strategy'];
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';
export type Shutdown = number | 'brutal_kill' | 'infinity';
/** A child's restart backoff as written in a tree (`{ min, max, randomFactor?, resetAfter? }`, ms). */
export type RestartBackoffOptions = z.infer<typeof backoff>;
export type ResourceLimits = z.infer<typeof resourceLimits>;

/** A worker actor as written in a tree (every field but id and module optional). */
export type ChildSpec = z.infer<typeof childSchema>;
export type ChildTemplate = z.infer<typeof templateSchema>;
/** A supervisor as written in a tree. */
export type SupervisorSpec = Omit<z.infer<typeof supervisorSchema>, 'children'> & { children: TreeSpec[] };
export type TreeSpec = SupervisorSpec | ChildSpec;

/** A child's restart backoff with its defaults filled in (see RestartBackoff). */
export interface ResolvedRestartBackoff {
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
  /** Longest a start may take, from the worker's launch to the end of `init`, ms. */
  initTimeoutMs: number;
  backoff: ResolvedRestartBackoff | null;
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
