import type { StoredDeadLetter } from '../persistence/dead-letter-store.js';
import type { Io } from './config-commands.js';
import { help } from './config-commands.js';
import { baseUrl, DEFAULT_STATUS_URL, fetchJson } from './http-client.js';
import { EXIT_FAILURE, EXIT_OK, parse, UsageError } from './usage.js';

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  actor: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function line(l: StoredDeadLetter): string {
  const replayed = l.replayedAt !== undefined ? `  (replayed ${new Date(l.replayedAt).toISOString()})` : '';
  return `${String(l.id).padStart(6)}  ${new Date(l.at).toISOString()}  ${l.kind.padEnd(5)} ${l.from} → ${l.to}: ${l.reason}${replayed}`;
}

/** `ringmaster dead-letters list|show <id>|replay`: the stored dead letters of a running system, over its HTTP API. */
export async function deadLettersCommand(args: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parse('dead-letters', args, OPTIONS, 2);
  if (values.help) return help('dead-letters', io);
  const [verb = 'list', id] = positionals;
  const base = baseUrl('dead-letters', values.url ?? DEFAULT_STATUS_URL);
  const query = new URLSearchParams();
  if (values.actor) query.set('actor', values.actor);
  if (values.since) query.set('since', values.since);
  if (values.limit) query.set('limit', values.limit);
  if (verb === 'list') {
    const r = await fetchJson(base, `/api/dead-letters${query.size > 0 ? `?${query}` : ''}`);
    if (!r.ok) return failed(io, r.message);
    const letters = r.json as StoredDeadLetter[];
    if (values.json) io.out(JSON.stringify(letters, null, 2));
    else io.out(letters.length === 0 ? 'no dead letters' : letters.map(line).join('\n'));
    return EXIT_OK;
  }
  if (verb === 'show') {
    if (id === undefined || !/^\d+$/.test(id)) throw new UsageError('dead-letters', 'show needs the id of a dead letter (from the list)');
    const r = await fetchJson(base, `/api/dead-letters/${id}`);
    if (!r.ok) return failed(io, r.message);
    io.out(JSON.stringify(r.json, null, 2));
    return EXIT_OK;
  }
  if (verb === 'replay') {
    const token = values.token ?? env.RINGMASTER_HTTP_TOKEN;
    if (!token) throw new UsageError('dead-letters', 'replay changes the system: give --token (or set RINGMASTER_HTTP_TOKEN)');
    const body: Record<string, unknown> = {};
    if (values.actor) body.actor = values.actor;
    if (values.since) body.since = values.since;
    if (values.limit) body.limit = Number(values.limit);
    if (id !== undefined) body.ids = [Number(id)];
    const r = await fetchJson(base, '/api/dead-letters/replay', { method: 'POST', token, body });
    if (!r.ok) return failed(io, r.message);
    const sent = (r.json as { replayed: number[] }).replayed;
    io.out(`replayed ${sent.length} dead letter${sent.length === 1 ? '' : 's'}${sent.length > 0 ? `: ${sent.join(', ')}` : ''}`);
    return EXIT_OK;
  }
  throw new UsageError('dead-letters', `unknown action '${verb}' (list, show <id>, replay [id])`);
}

function failed(io: Io, message: string): number {
  io.err(`ringmaster dead-letters: ${message}`);
  return EXIT_FAILURE;
}
