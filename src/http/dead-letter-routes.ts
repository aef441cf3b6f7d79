import type { DeadLetterFilter } from '../persistence/dead-letter-store.js';
import type { ActorSystem } from '../system/system.js';
import { HttpError } from './respond.js';
import type { Route } from './routes.js';

const REPLAY_KEYS = new Set(['actor', 'since', 'ids', 'limit', 'replayed']);

/** `since` as epoch ms or an ISO date; `limit` and `ids` as numbers. */
function filterOf(q: URLSearchParams | Record<string, unknown>, where: string): DeadLetterFilter {
  const get = (k: string): unknown => (q instanceof URLSearchParams ? (q.get(k) ?? undefined) : q[k]);
  const f: DeadLetterFilter = {};
  const actor = get('actor');
  if (actor !== undefined) {
    if (typeof actor !== 'string' || actor === '') throw new HttpError(400, 'ERR_BAD_REQUEST', `${where} actor must be an actor id`);
    f.actor = actor;
  }
  const since = get('since');
  if (since !== undefined) {
    const t = typeof since === 'number' ? since : /^\d+$/.test(String(since)) ? Number(since) : Date.parse(String(since));
    if (!Number.isFinite(t)) throw new HttpError(400, 'ERR_BAD_REQUEST', `${where} since must be epoch ms or an ISO date, got ${JSON.stringify(since)}`);
    f.since = t;
  }
  const limit = get('limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new HttpError(400, 'ERR_BAD_REQUEST', `${where} limit must be a whole number from 1, got ${JSON.stringify(limit)}`);
    f.limit = n;
  }
  const ids = get('ids');
  if (ids !== undefined) {
    if (!Array.isArray(ids) || !ids.every((i) => Number.isInteger(i))) throw new HttpError(400, 'ERR_BAD_REQUEST', `${where} ids must be a list of dead-letter ids`);
    f.ids = ids as number[];
  }
  const replayed = get('replayed');
  if (replayed !== undefined) f.replayed = replayed === true || replayed === 'true';
  return f;
}

function archiveOf(system: ActorSystem): NonNullable<ActorSystem['deadLetterArchive']> {
  const archive = system.deadLetterArchive;
  if (!archive) throw new HttpError(404, 'ERR_NOT_FOUND', 'dead letters are not kept: turn persistence.deadLetters on');
  return archive;
}

/** GET /api/dead-letters (?actor, since, limit, replayed), GET /api/dead-letters/:id, POST /api/dead-letters/replay (token). */
export function deadLetterRoutes(system: ActorSystem): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/dead-letters',
      action: false,
      handle: async (_p, _b, query) => ({ status: 200, json: archiveOf(system).list(filterOf(query ?? new URLSearchParams(), 'query')) }),
    },
    {
      method: 'GET',
      path: '/api/dead-letters/:id',
      action: false,
      handle: async ({ id }) => {
        const n = Number(id);
        const letter = Number.isInteger(n) ? archiveOf(system).get(n) : undefined;
        if (!letter) throw new HttpError(404, 'ERR_NOT_FOUND', `no dead letter ${id}`);
        return { status: 200, json: letter };
      },
    },
    {
      method: 'POST',
      path: '/api/dead-letters/replay',
      action: true,
      handle: async (_p, body) => {
        const b = body ?? {};
        if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'ERR_BAD_REQUEST', 'body must be a JSON object: { actor?, since?, ids?, limit?, replayed? }');
        const unknown = Object.keys(b).filter((k) => !REPLAY_KEYS.has(k));
        if (unknown.length > 0) throw new HttpError(400, 'ERR_BAD_REQUEST', `body has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...REPLAY_KEYS].join(', ')})`);
        const f = filterOf(b as Record<string, unknown>, 'body');
        return { status: 200, json: { ok: true, replayed: archiveOf(system).replay(f) } };
      },
    },
  ];
}
