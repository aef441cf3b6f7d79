import type { AlertStatus } from '../alerts/manager.js';
import { toPrometheusRules } from '../alerts/prometheus.js';
import { parseAlertRules } from '../alerts/rules.js';
import { loadConfig } from '../config/index.js';
import type { Io } from './config-commands.js';
import { help } from './config-commands.js';
import { baseUrl, DEFAULT_STATUS_URL, fetchJson } from './http-client.js';
import { EXIT_FAILURE, EXIT_OK, parse, UsageError } from './usage.js';

/** What `GET /api/alerts` answers, as far as the listing reads it. */
interface AlertsAnswer {
  name: string;
  intervalMs: number | null;
  alerts: AlertStatus[];
}

/** What a rule watches, in a few words. */
export function conditionOf(a: AlertStatus): string {
  const w = a.rule.when;
  const on = w.actor !== undefined ? ` of ${w.actor}` : ' of any actor';
  const hold = a.rule.forMs > 0 ? ` for ${a.rule.forMs} ms` : '';
  if (w.kind === 'restarts') return `restarts${on} > ${w.over} within ${w.withinMs} ms${hold}`;
  if (w.kind === 'metric') return `${w.metric}${on} ${w.op} ${w.value}${hold}`;
  return `health${w.actor !== undefined ? ` of ${w.actor}` : ' of the system'} ${w.level} or worse${hold}`;
}

/** For a rule over any actor, whose figure the VALUE column shows (the worst actor's): ` (value of actor a)`. */
const whose = (a: AlertStatus): string => (a.actor !== undefined && a.rule.when.actor === undefined ? ` (value of actor ${a.actor})` : '');

const ago = (since: number | null, now: number): string => (since === null ? '-' : `${Math.max(0, Math.round((now - since) / 1000))}s ago`);

/** The alerts table: firing first, then pending, then the rest, each with its condition. */
export function renderAlerts(answer: AlertsAnswer, base: string, now = Date.now()): string {
  const rank = { firing: 0, pending: 1, inactive: 2 } as const;
  const rows = [...answer.alerts].sort((a, b) => rank[a.state] - rank[b.state]);
  const firing = rows.filter((a) => a.state === 'firing').length;
  const nameWidth = Math.max(4, ...rows.map((a) => a.name.length));
  const head = `${'RULE'.padEnd(nameWidth)}  ${'STATE'.padEnd(8)} ${'SEVERITY'.padEnd(8)} ${'SINCE'.padStart(9)} ${'VALUE'.padStart(9)}  CONDITION`;
  const lines = rows.map((a) => {
    const value = a.value === null ? '-' : String(a.value);
    return `${a.name.padEnd(nameWidth)}  ${a.state.padEnd(8)} ${a.severity.padEnd(8)} ${ago(a.since, now).padStart(9)} ${value.padStart(9)}  ${conditionOf(a)}${whose(a)}`;
  });
  const title = `system '${answer.name}' at ${base}: ${rows.length} alert rule${rows.length === 1 ? '' : 's'}, ${firing} firing`;
  return rows.length === 0 ? `${title} (no alerts: in the config file)` : [title, head, ...lines].join('\n');
}

export async function alertsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('alerts', args, { url: { type: 'string' }, prometheus: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 1);
  if (values.help) return help('alerts', io);
  if (positionals[0] !== undefined) {
    throw new UsageError('alerts', `unexpected argument '${positionals[0]}': --url <url> asks a running system for its alerts, --prometheus <file> exports a config file's rules`);
  }
  if (values.prometheus !== undefined) {
    if (values.url !== undefined) throw new UsageError('alerts', '--prometheus <file> reads a config file, --url asks a running system: give one of them');
    const loaded = await loadConfig(values.prometheus, { checkModules: false });
    const out = toPrometheusRules(parseAlertRules(loaded.config.alerts), loaded.config.name);
    for (const s of out.skipped) io.err(`ringmaster alerts: rule '${s.name}' skipped: ${s.reason}`);
    io.out(out.yaml.trimEnd());
    return EXIT_OK;
  }
  const base = baseUrl('alerts', values.url ?? DEFAULT_STATUS_URL);
  const answer = await fetchJson(base, '/api/alerts');
  if (!answer.ok) {
    io.err(`ringmaster alerts: ${answer.message}`);
    return EXIT_FAILURE;
  }
  io.out(renderAlerts(answer.json as AlertsAnswer, base));
  return EXIT_OK;
}
