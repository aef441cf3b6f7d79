import { stringify } from 'yaml';
import type { AlertMetric, AlertRule } from './rules.js';

/** Prefix of the metrics ringmaster exports (src/metrics/registry.ts; metrics may not be imported from here). */
const PREFIX = 'ringmaster_';

/**
 * Each metric rule's figure → the exported series it is, as a PromQL
 * expression of the `actor` selector; null: the figure is not exported.
 */
export const PROMETHEUS_METRICS: Readonly<Record<AlertMetric, ((sel: string) => string) | null>> = {
  inboxDepth: (sel) => `${PREFIX}inbox_depth${sel}`,
  eventLoopUtilization: (sel) => `${PREFIX}event_loop_utilization_ratio${sel}`,
  cpuPct: (sel) => `${PREFIX}event_loop_utilization_ratio${sel} * 100`,
  deadLetters: (sel) => `${PREFIX}actor_dead_letters_total${sel}`,
  restarts: (sel) => `${PREFIX}restarts_total${sel}`,
  senderSlotsInUse: (sel) => `${PREFIX}sender_slots_in_use${sel}`,
  ringFullEvents: (sel) => `${PREFIX}ring_full_events_total${sel}`,
  received: (sel) => `${PREFIX}messages_received_total${sel}`,
  sent: (sel) => `${PREFIX}messages_sent_total${sel}`,
  heapUsedMb: null,
  heartbeatAgeMs: null,
};

/** A duration as Prometheus writes one: `90s`, `5m`, `250ms`. */
export function promDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${Math.round(ms)}ms`;
}

/** A name Prometheus takes as an alert name (a metric name): other characters become `_`. */
export function promAlertName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_:]/g, '_');
  return /^[A-Za-z_:]/.test(s) ? s : `_${s}`;
}

const selector = (actor: string | undefined): string => (actor === undefined ? '' : `{actor=${JSON.stringify(actor)}}`);

/** The PromQL expression of one rule, or why it has none. */
export function promExpr(rule: AlertRule): { expr: string } | { skip: string } {
  const w = rule.when;
  if (w.kind === 'restarts') return { expr: `increase(${PREFIX}restarts_total${selector(w.actor)}[${promDuration(w.withinMs)}]) > ${w.over}` };
  if (w.kind === 'metric') {
    const series = PROMETHEUS_METRICS[w.metric];
    if (!series) return { skip: `metric ${w.metric} is not among the exported metrics (docs/observability.md#alerts)` };
    return { expr: `${series(selector(w.actor))} ${w.op} ${w.value}` };
  }
  if (w.actor !== undefined) return { skip: "the health of one actor (its health hook) is not among the exported metrics" };
  if (w.level === 'unhealthy') return { skip: 'health unhealthy (a permanent actor down) cannot be told from the exported metrics, which do not say which actors are permanent; use health: degraded' };
  return { expr: `sum by (system) (${PREFIX}actors{state!="running"}) > 0` };
}

export interface PrometheusExport {
  /** The rules file (YAML), for Prometheus' `rule_files`. */
  yaml: string;
  /** Rules left out, with why. */
  skipped: Array<{ name: string; reason: string }>;
}

/**
 * The rules as a Prometheus alerting-rules file, one group named after the
 * system: each rule's expression over the exported metrics, `for`, a
 * `severity` label and the rule's own name as label `rule`. A rule the
 * metrics cannot express is left out and named in `skipped` (and in a
 * comment of the file). `repeatEvery` is Alertmanager's `repeat_interval`,
 * not part of a rules file.
 */
export function toPrometheusRules(rules: readonly AlertRule[], systemName: string): PrometheusExport {
  const skipped: PrometheusExport['skipped'] = [];
  const out: Array<Record<string, unknown>> = [];
  for (const rule of rules) {
    const e = promExpr(rule);
    if ('skip' in e) {
      skipped.push({ name: rule.name, reason: e.skip });
      continue;
    }
    out.push({
      alert: promAlertName(rule.name),
      expr: e.expr,
      ...(rule.forMs > 0 ? { for: promDuration(rule.forMs) } : {}),
      labels: { severity: rule.severity, rule: rule.name },
      annotations: {
        summary: `ringmaster alert ${rule.name}${rule.when.actor !== undefined ? ` (actor ${rule.when.actor})` : ''}`,
        ...(rule.description !== undefined ? { description: rule.description } : {}),
      },
    });
  }
  const head = [`# Alerting rules of ringmaster system '${systemName}' (ringmaster alerts --prometheus).`, ...skipped.map((s) => `# skipped ${s.name}: ${s.reason}`)];
  const yaml = `${head.join('\n')}\n${stringify({ groups: [{ name: `ringmaster-${systemName}`, rules: out }] }, { lineWidth: 0 })}`;
  return { yaml, skipped };
}
