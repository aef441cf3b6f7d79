import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { AlertStatus } from '../alerts/manager.js';
import { NoSuchActorError } from '../errors.js';
import type { ActorStatus, ActorSystem } from '../system/system.js';
import type { LatestSample } from './dashboard/live-feed.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import { HttpError, type Reply } from './respond.js';

export type Method = 'GET' | 'POST';

export interface Route {
  method: Method;
  /** Segments; one starting with `:` captures that segment as a parameter. */
  path: string;
  /** Changes state, so it needs the bearer token. */
  action: boolean;
  /** `query`: the request's query string (GET routes read filters there). */
  handle(params: Record<string, string>, body: unknown, query?: URLSearchParams): Promise<Reply>;
}

/** What the configuration layer offers over HTTP (versions and rollback). */
export interface ConfigRouteHandlers {
  versions(): unknown;
  rollback(version?: number): Promise<unknown>;
}

export interface RouteDeps {
  system: ActorSystem;
  registry: Registry;
  onReload?: () => Promise<unknown>;
  config?: ConfigRouteHandlers;
  /** The live feed's latest sample (rates, percentiles); without a feed the routes answer `sample: null`. */
  latest?: () => LatestSample | null;
  /** The alert manager whose rules `GET /api/alerts` lists (without one it lists none). */
  alerts?: AlertSource;
}

/** What `GET /api/alerts` reads: an AlertManager. */
export interface AlertSource {
  readonly intervalMs: number;
  list(): AlertStatus[];
}

function statusOf(system: ActorSystem, id: string): ActorStatus {
  const status = system.status().find((s) => s.id === id);
  if (!status) throw new NoSuchActorError(id, 'http');
  return status;
}

/** Every actor's message totals (over all incarnations), from the counters the system keeps. */
function countersOf(system: ActorSystem): Record<string, { received: number; sent: number }> {
  return Object.fromEntries(system.metrics().actors.map((a) => [a.id, { received: a.received, sent: a.sent }]));
}

export function buildRoutes({ system, registry, onReload, config, latest = () => null, alerts }: RouteDeps): Route[] {
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/health',
      action: false,
      handle: async () => {
        const health = await system.health();
        return { status: health.status === 'unhealthy' ? 503 : 200, json: health };
      },
    },
    {
      method: 'GET',
      path: '/ready',
      action: false,
      handle: async () => {
        const ready = system.ready();
        return { status: ready ? 200 : 503, json: { ready } };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      action: false,
      handle: async () => ({ status: 200, text: await registry.metrics(), contentType: registry.contentType }),
    },
    {
      method: 'GET',
      path: '/api/tree',
      action: false,
      handle: async () => ({ status: 200, json: { name: system.name, tree: system.tree, status: system.status(), counters: countersOf(system), sample: latest() } }),
    },
    {
      method: 'GET',
      path: '/api/actors/:id',
      action: false,
      handle: async ({ id }) => {
        const status = statusOf(system, id!);
        const metrics = system.metrics().actors.find((a) => a.id === id) ?? null;
        const sample = latest();
        const point = sample?.actors[id!];
        return { status: 200, json: { status, metrics, sample: point ? { t: sample!.t, intervalMs: sample!.intervalMs, ...point } : null } };
      },
    },
    {
      method: 'POST',
      path: '/api/actors/:id/restart',
      action: true,
      handle: async ({ id }) => {
        await system.restartActor(id!);
        return { status: 200, json: { ok: true, status: statusOf(system, id!) } };
      },
    },
    {
      method: 'POST',
      path: '/api/actors/:id/stop',
      action: true,
      handle: async ({ id }) => {
        await system.stopActor(id!);
        return { status: 200, json: { ok: true, status: statusOf(system, id!) } };
      },
    },
    {
      method: 'GET',
      path: '/api/alerts',
      action: false,
      handle: async () => ({ status: 200, json: { name: system.name, intervalMs: alerts?.intervalMs ?? null, alerts: alerts?.list() ?? [] } }),
    },
    ...deadLetterRoutes(system),
  ];
  if (onReload) {
    routes.push({
      method: 'POST',
      path: '/api/config/reload',
      action: true,
      handle: async () => ({ status: 200, json: { ok: true, result: (await onReload()) ?? null } }),
    });
  }
  if (config) {
    routes.push(
      { method: 'GET', path: '/api/config/versions', action: false, handle: async () => ({ status: 200, json: config.versions() }) },
      {
        method: 'POST',
        path: '/api/config/rollback',
        action: true,
        handle: async (_params, body) => {
          const version = (body as { version?: unknown } | null)?.version;
          if (version !== undefined && version !== null && typeof version !== 'number') throw new HttpError(400, 'ERR_BAD_REQUEST', 'version must be a number');
          return { status: 200, json: await config.rollback(version ?? undefined) };
        },
      },
    );
  }
  return routes;
}

/** The parameters of `path` under `pattern`, or null when it does not match. */
function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (g.length === 0) return null;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        throw new HttpError(400, 'ERR_BAD_REQUEST', `malformed percent-encoding in path segment '${g}'`);
      }
    } else if (w !== g) return null;
  }
  return params;
}

/** The route for a request, or the HTTP error (404, 405 with the allowed methods) saying why there is none. */
export function findRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } {
  const allowed: string[] = [];
  // HEAD is a GET without the body (node:http leaves the body out by itself).
  const asMethod = method === 'HEAD' ? 'GET' : method;
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if (route.method === asMethod) return { route, params };
    allowed.push(route.method, ...(route.method === 'GET' ? ['HEAD'] : []));
  }
  if (allowed.length === 0) throw new HttpError(404, 'ERR_NOT_FOUND', `no route for ${path}`);
  const allow = [...new Set(allowed)].join(', ');
  throw new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path} (allowed: ${allow})`, { allow });
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/**
 * Let a state-changing request through only with the configured bearer
 * token. Without a configured token nothing may change state over HTTP
 * (403): an operator API open to anyone who can reach the port would be a
 * remote stop button.
 */
export function requireToken(authorization: string | undefined, token: string | undefined): void {
  if (token === undefined) {
    throw new HttpError(403, 'ERR_FORBIDDEN', 'actions are disabled: a token must be configured (startHttp option `token`) to restart, stop or reload over HTTP');
  }
  const presented = BEARER.exec(authorization ?? '')?.[1];
  if (presented === undefined || !sameSecret(presented, token)) {
    throw new HttpError(401, 'ERR_UNAUTHORIZED', 'a valid `Authorization: Bearer <token>` header is required', { 'www-authenticate': 'Bearer realm="ringmaster"' });
  }
}

/**
 * Compare in constant time. Hashing first gives both sides the same length,
 * so neither the content nor the length of the token leaks through timing.
 */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
