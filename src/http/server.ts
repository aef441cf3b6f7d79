import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { createMetricsRegistry, type ReloadCounts } from '../metrics/registry.js';
import type { ActorSystem } from '../system/system.js';
import { LiveFeed } from './dashboard/live-feed.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { hostGuard, invalidHostEntry, type HostGuard } from './host-guard.js';
import { HttpError, sendError, sendReply, toHttpError } from './respond.js';
import { buildRoutes, type AlertSource, type ConfigRouteHandlers, findRoute, requireToken } from './routes.js';

/** Loopback only unless asked otherwise: the endpoints describe (and may control) the whole system. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
/** 0 lets the OS choose a free port; the chosen one is in the result. */
export const DEFAULT_HTTP_PORT = 0;
/** How long close() lets requests already being answered finish before their sockets are cut. */
export const HTTP_CLOSE_GRACE_MS = 2000;

export interface HttpOptions {
  host?: string;
  port?: number;
  /** Bearer token that restart, stop and reload require; without one those routes answer 403. */
  token?: string;
  /** Config reloads so far, exposed as `ringmaster_config_reloads_total`. */
  reloads?: () => ReloadCounts;
  /** Runs on `POST /api/config/reload`; its result is the response's `result`. Without it the route is 404. */
  onReload?: () => Promise<unknown>;
  /** Versions and rollback of the configuration: `GET /api/config/versions`, `POST /api/config/rollback`. */
  config?: ConfigRouteHandlers;
  /** Serve the dashboard page at `/` and its live feed at `/api/live` (default true). */
  dashboard?: boolean;
  /**
   * Host names (or addresses) requests may name in their Host header besides
   * the bound address, `host` itself, `localhost`, `127.0.0.1` and `[::1]`:
   * any other name is refused with 403 (the DNS-rebinding guard).
   */
  allowedHosts?: readonly string[];
  /** The alert manager `GET /api/alerts` and the dashboard's alert strip show (an AlertManager). */
  alerts?: AlertSource;
}

export interface HttpServer {
  /** e.g. `http://127.0.0.1:39123` */
  url: string;
  port: number;
  /** Stop listening, finish or cut open requests, and close every socket (keep-alive ones too). */
  close(): Promise<void>;
}

function validate(options: HttpOptions): Required<Pick<HttpOptions, 'host' | 'port'>> & HttpOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  const { host = DEFAULT_HTTP_HOST, port = DEFAULT_HTTP_PORT, token, reloads, onReload, dashboard, allowedHosts } = options;
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError('host', 'must be a non-empty string (an address or host name)');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError('port', `must be an integer from 0 to 65535, got ${String(port)}`);
  if (token !== undefined && (typeof token !== 'string' || !/^\S+$/.test(token))) throw new InvalidOptionError('token', 'must be a non-empty string without whitespace');
  if (reloads !== undefined && typeof reloads !== 'function') throw new InvalidOptionError('reloads', 'must be a function returning { applied, rejected }');
  if (onReload !== undefined && typeof onReload !== 'function') throw new InvalidOptionError('onReload', 'must be a function returning a promise');
  if (dashboard !== undefined && typeof dashboard !== 'boolean') throw new InvalidOptionError('dashboard', 'must be true or false');
  if (allowedHosts !== undefined) {
    if (!Array.isArray(allowedHosts)) throw new InvalidOptionError('allowedHosts', 'must be an array of host names');
    allowedHosts.forEach((h: unknown, i) => {
      const why = invalidHostEntry(h);
      if (why !== null) throw new InvalidOptionError(`allowedHosts[${i}]`, why);
    });
  }
  return { ...options, host, port };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Serve the system's health, readiness, Prometheus metrics, tree and
 * per-actor status over HTTP, plus token-guarded operator actions (restart,
 * stop, config reload) and the dashboard with its live feed. Every answer,
 * errors included, is JSON except /metrics and the dashboard's files; a
 * failing handler answers 500 and the server keeps serving.
 */
export async function startHttp(system: ActorSystem, options: HttpOptions = {}): Promise<HttpServer> {
  const opts = validate(options);
  const log = system.log.child({ component: 'http' });
  const registry = createMetricsRegistry(system, opts.reloads ? { reloads: opts.reloads } : {});
  const feed =
    opts.dashboard === false ? null : new LiveFeed(system, { info: { actions: { token: opts.token !== undefined, reload: opts.onReload !== undefined } } });
  const routes = [
    ...buildRoutes({
      system,
      registry,
      ...(opts.onReload ? { onReload: opts.onReload } : {}),
      ...(options.config ? { config: options.config } : {}),
      ...(options.alerts ? { alerts: options.alerts } : {}),
      ...(feed ? { latest: () => feed.latest() } : {}),
    }),
    ...(feed ? dashboardRoutes(feed) : []),
  ];
  let closing = false;
  // Known once the server is bound: the address it listens on is one of the names it answers to.
  let guard: HostGuard | null = null;
  const guardOf = (): HostGuard => (guard ??= hostGuard((server.address() as AddressInfo).address, opts.host, opts.allowedHosts));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // An answer sent while closing tells the client not to reuse the socket, so the socket ends with it.
    const headers = (): Record<string, string> => (closing ? { connection: 'close' } : {});
    try {
      // Before anything else, the page and the live feed included: a request for another name is not for this server.
      const g = guardOf();
      const host = req.headers.host;
      if (!g.allows(host)) {
        log.debug({ host, url: req.url }, 'request refused: Host not allowed');
        const named = host === undefined ? 'a request without a Host header is not answered' : `Host '${host.length > 100 ? `${host.slice(0, 100)}…` : host}' is not allowed`;
        throw new HttpError(403, 'ERR_FORBIDDEN', `${named}; this server answers to ${g.allowed} (add a name to allowedHosts, http.allowedHosts in a config file)`);
      }
      // Taken as sent, not through new URL(): that would read `//host/path` as a host and `/a/../b` as `/b`.
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const { route, params } = findRoute(routes, req.method ?? 'GET', path);
      if (route.action) requireToken(req.headers.authorization, opts.token);
      const reply = await route.handle(params, route.method === 'POST' ? await readJson(req) : null, new URLSearchParams((req.url ?? '').split('?')[1] ?? ''));
      if ('stream' in reply) reply.stream(req, res);
      else sendReply(res, reply, headers());
      if (route.action) log.info({ method: req.method, path }, 'operator action done');
    } catch (err) {
      const httpErr = toHttpError(err, (e) => log.error({ err: e, method: req.method, url: req.url }, 'http handler failed'));
      if (res.headersSent) res.destroy();
      else sendError(res, httpErr, headers());
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'http response failed');
      res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      feed?.close(); // its sampler would otherwise run for a server that never was
      reject(err);
    };
    server.once('error', failed);
    server.listen(opts.port, opts.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'http server error'));

  const { address, port } = server.address() as AddressInfo;
  const url = `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
  if (!LOOPBACK.test(opts.host)) log.warn({ url }, 'HTTP endpoints listen beyond loopback: health, metrics and the tree (with child configs) need no token');
  log.info({ url, actions: opts.token ? 'enabled' : 'disabled' }, 'http listening');

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      closing = true;
      // Live streams never end by themselves; ending them first lets close() finish without the grace period.
      feed?.close();
      const cut = setTimeout(() => server.closeAllConnections(), HTTP_CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections();
    }));
  return { url, port, close };
}

/** Largest request body taken, bytes: the actions carry a few fields at most. */
const MAX_BODY_BYTES = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'ERR_BAD_REQUEST', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'ERR_BAD_REQUEST', 'request body is not JSON');
  }
}
