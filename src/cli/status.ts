import type { ActorStatus } from '../system/system.js';
import type { Io } from './config-commands.js';
import { help } from './config-commands.js';
import { baseUrl, DEFAULT_STATUS_URL, fetchJson } from './http-client.js';
import { EXIT_FAILURE, EXIT_OK, parse } from './usage.js';

/** Spaces per supervision level in the listing. */
const INDENT = 2;

/** What `GET /api/tree` answers, as far as the listing reads it. */
interface TreeAnswer {
  name: string;
  status: ActorStatus[];
  /** The server's latest sample (once a second); null without the dashboard's feed. */
  sample?: { actors: Record<string, { in: number | null } | undefined> } | null;
}

/**
 * Messages handled per second by each actor, as the server's own sampler
 * measured them over its latest interval: the server samples every actor's
 * counters once a second anyway (for the dashboard), so one request is
 * enough. An actor without a figure yet (the first second, a new actor) is left out.
 */
export function ratesOf(answer: TreeAnswer): Map<string, number> {
  const rates = new Map<string, number>();
  for (const [id, point] of Object.entries(answer.sample?.actors ?? {})) {
    if (typeof point?.in === 'number') rates.set(id, point.in);
  }
  return rates;
}

function depthOf(status: ActorStatus[]): Map<string, number> {
  const parent = new Map(status.map((s) => [s.id, s.parent]));
  const depth = new Map<string, number>();
  for (const s of status) {
    let d = 0;
    for (let p = s.parent; p !== null && d < status.length; p = parent.get(p) ?? null) d++;
    depth.set(s.id, d);
  }
  return depth;
}

/** The status table: one row per actor or supervisor, indented under its supervisor. */
export function renderStatus(name: string, base: string, status: ActorStatus[], rates: Map<string, number>): string {
  const depth = depthOf(status);
  const label = (s: ActorStatus): string => `${' '.repeat(INDENT * (depth.get(s.id) ?? 0))}${s.id}`;
  const idWidth = Math.max(5, ...status.map((s) => label(s).length));
  const rows = status.map((s) => {
    const cells =
      s.kind === 'supervisor'
        ? ['-', '-', '-', '-', `${s.strategy ?? ''}, restart budget left ${s.restartBudgetLeft ?? '?'}`]
        : [String(s.incarnation), String(s.restarts), String(s.inboxDepth), rates.has(s.id) ? rates.get(s.id)!.toFixed(1) : '?', ''];
    const [inc, restarts, inbox, rate, note] = cells as [string, string, string, string, string];
    return `${label(s).padEnd(idWidth)}  ${s.state.padEnd(11)} ${inc.padStart(4)} ${restarts.padStart(9)} ${inbox.padStart(6)} ${rate.padStart(9)}  ${note}`.trimEnd();
  });
  const actors = status.filter((s) => s.kind === 'actor').length;
  const head = `${'ACTOR'.padEnd(idWidth)}  ${'STATE'.padEnd(11)} ${'INC'.padStart(4)} ${'RESTARTS'.padStart(9)} ${'INBOX'.padStart(6)} ${'MSG/S'.padStart(9)}`;
  return [`system '${name}' at ${base}: ${actors} actor${actors === 1 ? '' : 's'}, ${status.length - actors} supervisor${status.length - actors === 1 ? '' : 's'}`, head, ...rows].join('\n');
}

export async function statusCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse('status', args, { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 0);
  if (values.help) return help('status', io);
  const base = baseUrl('status', values.url ?? DEFAULT_STATUS_URL);
  const tree = await fetchJson(base, '/api/tree');
  if (!tree.ok) {
    io.err(`ringmaster status: ${tree.message}`);
    return EXIT_FAILURE;
  }
  const answer = tree.json as TreeAnswer;
  const { name, status } = answer;
  const rates = ratesOf(answer);
  io.out(renderStatus(name, base, status, rates));
  return EXIT_OK;
}
