import { setTimeout as sleep } from 'node:timers/promises';
import type { ActorStatus } from '../system/system.js';
import type { Io } from './config-commands.js';
import { help } from './config-commands.js';
import { baseUrl, DEFAULT_STATUS_URL, fetchJson } from './http-client.js';
import { EXIT_FAILURE, EXIT_OK, parse } from './usage.js';

/** Time between the two samples of each actor's `received` counter that the message rate comes from, ms. */
export const RATE_SAMPLE_MS = 1000;
/** Spaces per supervision level in the listing. */
const INDENT = 2;

interface Sample {
  at: number;
  received: Map<string, number>;
}

async function sample(base: string, ids: string[]): Promise<Sample | string> {
  const at = performance.now();
  const answers = await Promise.all(ids.map((id) => fetchJson(base, `/api/actors/${encodeURIComponent(id)}`)));
  const received = new Map<string, number>();
  for (const [i, a] of answers.entries()) {
    // An actor removed between the two requests just has no rate.
    if (!a.ok) {
      if (a.status === 404) continue;
      return a.message;
    }
    const r = (a.json as { metrics?: { received?: number } | null }).metrics?.received;
    if (typeof r === 'number') received.set(ids[i]!, r);
  }
  return { at, received };
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
  const { name, status } = tree.json as { name: string; status: ActorStatus[] };
  const ids = status.filter((s) => s.kind === 'actor').map((s) => s.id);
  const first = await sample(base, ids);
  if (typeof first === 'string') {
    io.err(`ringmaster status: ${first}`);
    return EXIT_FAILURE;
  }
  await sleep(RATE_SAMPLE_MS);
  const second = await sample(base, ids);
  if (typeof second === 'string') {
    io.err(`ringmaster status: ${second}`);
    return EXIT_FAILURE;
  }
  const seconds = (second.at - first.at) / 1000;
  const rates = new Map<string, number>();
  for (const [id, r2] of second.received) {
    const r1 = first.received.get(id);
    // A counter that went down wrapped (32 bits) or belongs to a new actor of the same id: no rate this time.
    if (r1 !== undefined && r2 >= r1 && seconds > 0) rates.set(id, (r2 - r1) / seconds);
  }
  io.out(renderStatus(name, base, status, rates));
  return EXIT_OK;
}
