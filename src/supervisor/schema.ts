import { z } from 'zod';
import { validatePattern } from '../bus/subject.js';
import { LOG_LEVELS, MAX_TIMEOUT_MS } from '../defaults.js';

/**
 * The zod schemas of a supervision tree as written: the one authority on
 * which fields a node takes and what values they allow. resolve.ts runs them
 * and fills in the defaults; spec.ts names the types they describe.
 */

export const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must use only letters, digits and _ . : -')
  .refine((s) => !s.startsWith('$'), 'must not start with $ (reserved for the system)');

export const restart = z.enum(['permanent', 'transient', 'temporary']);

/**
 * A duration in whole ms, at most MAX_TIMEOUT_MS: every one of them ends up
 * in a timer (or is compared with one), and Node fires a longer timer after
 * 1 ms instead.
 */
function ms(min = 0): z.ZodNumber {
  const reason = `must be a whole number of ms from ${min} to ${MAX_TIMEOUT_MS}`;
  return z.number().int(reason).min(min, reason).max(MAX_TIMEOUT_MS, reason);
}
const shutdown = z.union([ms(), z.literal('brutal_kill'), z.literal('infinity')]);

export const backoff = z.strictObject({
  min: ms(),
  max: ms(),
  randomFactor: z.number().min(0).max(1).optional(),
  resetAfter: ms().optional(),
});

const mailbox = z.strictObject({
  capacity: z.number().int().min(0).max(2 ** 30).optional(),
  overflow: z.enum(['backpressure', 'drop-newest', 'drop-oldest', 'fail']).optional(),
  // Also kept in an Int32 slot of the doorbell, which MAX_TIMEOUT_MS fits.
  waitMs: ms(1).optional(),
});

const pool = z.strictObject({
  module: z.string().min(1),
  minThreads: z.number().int().min(0).max(256).optional(),
  maxThreads: z.number().int().min(1).max(256).optional(),
  maxQueue: z.number().int().min(0).optional(),
  idleTimeout: ms().optional(),
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
  z.strictObject({ intervalMs: ms(1).optional(), misses: z.number().int().min(1).optional() }),
]);

export const resourceLimits = z.strictObject({
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
  shutdown: shutdown.optional(),
  significant: z.boolean().optional(),
  dependencies: z.array(id).optional(),
  heartbeat: heartbeat.optional(),
  deadlineMs: ms().optional(),
  initTimeoutMs: ms(1).optional(),
  backoff: backoff.optional(),
  resourceLimits: resourceLimits.optional(),
  maxRedeliveries: z.number().int().min(0).optional(),
  ringBytes: z.number().int().optional(),
  standby: z.boolean().optional(),
  mailbox: mailbox.optional(),
  breaker: z.strictObject({ failures: z.number().int().min(1), resetMs: ms(1) }).optional(),
  subscribe: z.array(z.string().superRefine(patternIssue)).optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
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

export const childSchema = z.strictObject({ id, ...childFields }).superRefine(oneRunner);
/** A simple_one_for_one template: a child without an id (each spawn names its own). */
export const templateSchema = z.strictObject(childFields).superRefine(oneRunner);
/** What a spawn under a simple_one_for_one supervisor gives: the child's id and, optionally, a config replacing the template's. */
export const spawnSchema = z.strictObject({ id, config: z.unknown().optional() });

export const supervisorSchema = z.strictObject({
  id,
  strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one']),
  intensity: z.number().int().min(0).optional(),
  period: ms(1).optional(),
  autoShutdown: z.enum(['never', 'any_significant', 'all_significant']).optional(),
  restart: restart.optional(),
  significant: z.boolean().optional(),
  dependencies: z.array(id).optional(),
  shutdown: shutdown.optional(),
  template: templateSchema.optional(),
  children: z.array(z.unknown()),
});
