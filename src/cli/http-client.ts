import { UsageError } from './usage.js';

/** Where `status` and `config rollback` look by default: the config's default HTTP address. */
export const DEFAULT_STATUS_URL = 'http://127.0.0.1:9464';
/** How long one request may take before the system is reported as not answering, ms. */
export const REQUEST_TIMEOUT_MS = 5000;

export type Answer = { ok: true; status: number; json: unknown } | { ok: false; status?: number; message: string };

/** The base URL of a running system, checked before any request is made. */
export function baseUrl(command: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(command, `--url must be an http URL such as ${DEFAULT_STATUS_URL}, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(command, `--url must be an http URL, got '${raw}'`);
  return url.href.replace(/\/+$/, '');
}

/** A JSON request to a running system, every failure turned into one readable sentence. */
export async function fetchJson(base: string, path: string, init: { method?: 'GET' | 'POST'; token?: string; body?: unknown } = {}): Promise<Answer> {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, message: unreachable(base, err) };
  }
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return { ok: true, status: res.status, json };
  const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
  const detail = error?.message ? `${error.code ?? res.status}: ${error.message}` : `HTTP ${res.status} ${res.statusText}`;
  const hint = res.status === 404 && !error?.code?.startsWith('ERR_NO_SUCH') ? ` (is ${base} a ringmaster system with this route?)` : '';
  return { ok: false, status: res.status, message: `${init.method ?? 'GET'} ${path}: ${detail}${hint}` };
}

function unreachable(base: string, err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `${base} did not answer within ${REQUEST_TIMEOUT_MS} ms`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return `nothing is listening at ${base} (connection refused): is the system running, with an http section or --port?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${base} (${code})`;
  return `cannot reach ${base}: ${e.cause?.message ?? e.message}`;
}
