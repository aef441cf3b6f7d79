import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';

/** How often rules are evaluated by default, ms. */
export const DEFAULT_ALERT_INTERVAL_MS = 1000;
/** A webhook's time limit per attempt by default, ms. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
/** Retries of a webhook after its first attempt by default. */
export const DEFAULT_WEBHOOK_RETRIES = 2;

/** The figures of `system.metrics()`'s actors a metric rule may watch. */
export const ALERT_METRICS = ['inboxDepth', 'cpuPct', 'eventLoopUtilization', 'heapUsedMb', 'deadLetters', 'restarts', 'senderSlotsInUse', 'ringFullEvents', 'heartbeatAgeMs', 'received', 'sent'] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];
export const ALERT_OPS = ['>', '>=', '<', '<=', '=='] as const;
export type AlertOp = (typeof ALERT_OPS)[number];
export type Severity = 'info' | 'warning' | 'critical';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `60s`, `5m`, `1h`, `250ms` or a number of ms → ms; null when it is none of these. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  return m ? Number(m[1]) * UNITS[m[2]!]! : null;
}

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `must be a duration such as 30s, 5m, 1h, 250ms or a number of ms, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});
const actorId = z.string().min(1, 'must be an actor id');

const whenSchema = z.union([
  z.strictObject({ restarts: z.strictObject({ actor: actorId.optional(), over: z.number().int().min(0), within: duration }), for: duration.optional() }),
  z.strictObject({ metric: z.enum(ALERT_METRICS, { error: (issue) => `unknown metric ${JSON.stringify(issue.input)} (known: ${ALERT_METRICS.join(', ')})` }), actor: actorId.optional(), op: z.enum(ALERT_OPS), value: z.number(), for: duration.optional() }),
  z.strictObject({ health: z.enum(['degraded', 'unhealthy']), actor: actorId.optional(), for: duration.optional() }),
]);

const notifySchema = z.union([
  z.literal('log'),
  z.strictObject({
    webhook: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    timeoutMs: z.number().int().min(1).optional(),
    retries: z.number().int().min(0).max(10).optional(),
  }),
  z.strictObject({ actor: actorId }),
]);

const ruleSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'must start with a letter or _ and hold only letters, digits, _ . : -'),
  when: whenSchema,
  severity: z.enum(['info', 'warning', 'critical']),
  notify: z.array(notifySchema).default(['log']),
  repeatEvery: duration.optional(),
  description: z.string().optional(),
});

export type RuleCondition =
  | { kind: 'restarts'; actor?: string; over: number; withinMs: number }
  | { kind: 'metric'; metric: AlertMetric; actor?: string; op: AlertOp; value: number }
  | { kind: 'health'; level: 'degraded' | 'unhealthy'; actor?: string };
export type Notifier = { kind: 'log' } | { kind: 'webhook'; url: string; timeoutMs: number; retries: number } | { kind: 'actor'; actor: string };

/** One rule as the manager uses it: durations in ms, defaults filled in. */
export interface AlertRule {
  name: string;
  when: RuleCondition;
  /** How long the condition must hold before the alert fires, ms (0: at once). */
  forMs: number;
  severity: Severity;
  notify: Notifier[];
  /** Notify again this often while it keeps firing, ms; null: once per firing. */
  repeatEveryMs: number | null;
  description?: string;
}

/** One thing wrong with a list of rules: where (`[0].when.op`), and why, naming the rule. */
export interface RuleProblem {
  path: string;
  message: string;
}

function resolve(r: z.output<typeof ruleSchema>): AlertRule {
  const w = r.when;
  const when: RuleCondition =
    'restarts' in w
      ? { kind: 'restarts', over: w.restarts.over, withinMs: w.restarts.within, ...(w.restarts.actor ? { actor: w.restarts.actor } : {}) }
      : 'metric' in w
        ? { kind: 'metric', metric: w.metric, op: w.op, value: w.value, ...(w.actor ? { actor: w.actor } : {}) }
        : { kind: 'health', level: w.health, ...(w.actor ? { actor: w.actor } : {}) };
  const notify: Notifier[] = r.notify.map((n) =>
    n === 'log'
      ? { kind: 'log' }
      : 'webhook' in n
        ? { kind: 'webhook', url: n.webhook, timeoutMs: n.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS, retries: n.retries ?? DEFAULT_WEBHOOK_RETRIES }
        : { kind: 'actor', actor: n.actor },
  );
  return { name: r.name, when, forMs: w.for ?? 0, severity: r.severity, notify, repeatEveryMs: r.repeatEvery ?? null, ...(r.description !== undefined ? { description: r.description } : {}) };
}

/** A zod union's failure says little; name the branch the rule meant by the key it has. */
function whenProblem(when: unknown): string | null {
  if (when === null || typeof when !== 'object' || Array.isArray(when)) return 'must be a mapping with one of restarts, metric or health';
  const keys = ['restarts', 'metric', 'health'].filter((k) => k in when);
  if (keys.length !== 1) return `must have exactly one of restarts, metric or health${keys.length ? ` (has ${keys.join(', ')})` : ''}`;
  const branch = whenSchema.options[['restarts', 'metric', 'health'].indexOf(keys[0]!)]!;
  const r = branch.safeParse(when);
  if (r.success) return null;
  return r.error.issues.map((i) => `${[...i.path].map(String).join('.') || keys[0]}: ${i.code === 'unrecognized_keys' ? `unknown field ${i.keys.join(', ')}` : i.message}`).join('; ');
}

/** Check a raw `alerts` list; every problem, each naming its rule. */
export function checkAlertRules(raw: unknown): { rules: AlertRule[]; problems: RuleProblem[] } {
  if (raw === undefined || raw === null) return { rules: [], problems: [] };
  if (!Array.isArray(raw)) return { rules: [], problems: [{ path: '', message: 'must be a list of rules' }] };
  const rules: AlertRule[] = [];
  const problems: RuleProblem[] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, i) => {
    const name = item !== null && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string' ? (item as { name: string }).name : null;
    const label = name ? `rule '${name}'` : `rule #${i + 1}`;
    const result = ruleSchema.safeParse(item);
    if (!result.success) {
      const whenMsg = item !== null && typeof item === 'object' && 'when' in item ? whenProblem((item as { when: unknown }).when) : null;
      for (const issue of result.error.issues) {
        if (issue.path[0] === 'when' && whenMsg !== null) continue;
        const msg = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')} (known: ${Object.keys(ruleSchema.shape).join(', ')})` : issue.message;
        // `[0].notify[1].webhook`, as the file's other paths are written (and so found at their line).
        const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
        problems.push({ path: `[${i}]${path}`, message: `${label}: ${msg}` });
      }
      if (whenMsg !== null) problems.push({ path: `[${i}].when`, message: `${label}: ${whenMsg}` });
      return;
    }
    if (seen.has(result.data.name)) problems.push({ path: `[${i}].name`, message: `${label}: the name is used by an earlier rule` });
    seen.add(result.data.name);
    rules.push(resolve(result.data));
  });
  return { rules, problems };
}

/** Checked rules, or InvalidOptionError naming every problem. */
export function parseAlertRules(raw: unknown, path = 'alerts'): AlertRule[] {
  const { rules, problems } = checkAlertRules(raw);
  if (problems.length > 0) throw new InvalidOptionError(path, `are invalid: ${problems.map((p) => `${path}${p.path}: ${p.message}`).join('; ')}`);
  return rules;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The actor ids a list of rules names that `known` does not hold: a rule
 * over such an actor never fires, and a notice told to one is a dead letter.
 * `notify: false` leaves the notifiers' actors unchecked (in a cluster they
 * may live on another node).
 */
export function unknownActorProblems(raw: unknown, known: ReadonlySet<string>, check: { notify: boolean }): RuleProblem[] {
  if (!Array.isArray(raw)) return [];
  const sample = [...known].slice(0, 10).join(', ') + (known.size > 10 ? ', …' : '');
  const problems: RuleProblem[] = [];
  raw.forEach((item: unknown, i) => {
    if (!isObject(item)) return;
    const label = typeof item.name === 'string' ? `rule '${item.name}'` : `rule #${i + 1}`;
    const flag = (path: string, id: unknown, what: string): void => {
      if (typeof id === 'string' && !known.has(id)) problems.push({ path: `[${i}].${path}`, message: `${label}: ${what} '${id}', which the tree does not have (its actors: ${sample || 'none'})` });
    };
    const when = item.when;
    if (isObject(when)) {
      flag('when.actor', when.actor, 'watches actor');
      if (isObject(when.restarts)) flag('when.restarts.actor', when.restarts.actor, 'watches actor');
    }
    if (check.notify && Array.isArray(item.notify)) item.notify.forEach((n: unknown, j) => isObject(n) && flag(`notify[${j}].actor`, n.actor, 'notifies actor'));
  });
  return problems;
}
