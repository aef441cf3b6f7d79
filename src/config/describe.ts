import { joinPath } from './document.js';
import { leaves } from './layers.js';
import type { LoadedConfig } from './load.js';
import { describeOrigin } from './sources.js';

/** Shown instead of a secret: the listing says that it is set and where from, not what it is. */
export const REDACTED = '<redacted>';
const SECRET_PATHS = new Set(['http.token']);

export interface ConfigEntry {
  path: string;
  value: unknown;
  /** `default`, `trading.yaml:12`, `env RINGMASTER_HTTP_PORT`, `flag --port`. */
  origin: string;
}

/** The merged configuration as data (secrets redacted) and, for every leaf, where it came from. */
export function describeConfig(loaded: LoadedConfig): { config: Record<string, unknown>; entries: ConfigEntry[] } {
  const { name, tree, http, log, system, transport, tracing } = loaded.config;
  const config: Record<string, unknown> = { name, tree, ...(http ? { http: { ...http } } : {}), log, system, transport, ...(tracing ? { tracing: { ...tracing } } : {}) };
  const entries: ConfigEntry[] = [];
  for (const [segments, value] of leaves(config)) {
    const path = joinPath(segments);
    const secret = SECRET_PATHS.has(path);
    entries.push({ path, value: secret ? REDACTED : value, origin: originOf(loaded, path) });
  }
  if (http?.token !== undefined) (config.http as Record<string, unknown>).token = REDACTED;
  return { config, entries };
}

/** The origin of `path`, or of the nearest ancestor that has one (a value inside a list, say). */
function originOf(loaded: LoadedConfig, path: string): string {
  for (let p = path; ; ) {
    const o = loaded.origins.get(p);
    if (o) return describeOrigin(o);
    const parent = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (parent === p) return 'default';
    p = parent;
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value) ?? String(value);
}

/** A readable listing: one line per value, aligned, with its origin. */
export function renderConfig(loaded: LoadedConfig): string {
  const { entries } = describeConfig(loaded);
  const width = Math.min(48, Math.max(...entries.map((e) => e.path.length)));
  const valueWidth = Math.min(40, Math.max(...entries.map((e) => show(e.value).length)));
  const lines = entries.map((e) => `${e.path.padEnd(width)}  ${show(e.value).padEnd(valueWidth)}  ${e.origin}`);
  return [`# ${loaded.config.file} (relative modules resolve from ${loaded.config.baseDir})`, ...lines].join('\n');
}
