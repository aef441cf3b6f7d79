import type { PathSegment } from './document.js';

/** Where one value of the merged configuration came from. */
export type Origin =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line?: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; flag: string };

export function describeOrigin(o: Origin): string {
  switch (o.kind) {
    case 'default':
      return 'default';
    case 'file':
      return o.line === undefined ? o.file : `${o.file}:${o.line}`;
    case 'env':
      return `env ${o.name}`;
    case 'flag':
      return `flag ${o.flag}`;
  }
}

/** The command-line flags that override the file (raw, as typed; checked when merged). */
export interface ConfigFlags {
  name?: string;
  host?: string;
  port?: string;
  token?: string;
  /** Comma-separated. */
  allowedHosts?: string;
  logLevel?: string;
  pretty?: boolean;
  persistencePath?: string;
  clusterNode?: string;
  /** Comma-separated. */
  clusterServers?: string;
}

type Parsed = { value: unknown } | { error: string };

/** One value that the environment and a flag may set, with how the text becomes a value. */
export interface Override {
  path: readonly PathSegment[];
  env: string;
  flag: string;
  key: keyof ConfigFlags;
  parse(raw: string): Parsed;
}

const text = (raw: string): Parsed => ({ value: raw });

const port = (raw: string): Parsed => {
  const n = /^\d{1,5}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  return n >= 0 && n <= 65535 ? { value: n } : { error: `must be an integer from 0 to 65535, got '${raw}'` };
};

/** A comma-separated list (`a.example, b.example`); each entry is checked by the schema. */
const list = (raw: string): Parsed => ({ value: raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) });

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const bool = (raw: string): Parsed => {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return { value: true };
  if (FALSE.has(v)) return { value: false };
  return { error: `must be true or false, got '${raw}'` };
};

/** The fixed mapping of environment variables and flags onto config fields (the table in docs/configuration.md). */
export const OVERRIDES: readonly Override[] = [
  { path: ['name'], env: 'RINGMASTER_NAME', flag: '--name', key: 'name', parse: text },
  { path: ['http', 'host'], env: 'RINGMASTER_HTTP_HOST', flag: '--host', key: 'host', parse: text },
  { path: ['http', 'port'], env: 'RINGMASTER_HTTP_PORT', flag: '--port', key: 'port', parse: port },
  { path: ['http', 'token'], env: 'RINGMASTER_HTTP_TOKEN', flag: '--token', key: 'token', parse: text },
  { path: ['http', 'allowedHosts'], env: 'RINGMASTER_HTTP_ALLOWED_HOSTS', flag: '--allowed-hosts', key: 'allowedHosts', parse: list },
  { path: ['log', 'level'], env: 'RINGMASTER_LOG_LEVEL', flag: '--log-level', key: 'logLevel', parse: text },
  { path: ['log', 'pretty'], env: 'RINGMASTER_LOG_PRETTY', flag: '--pretty', key: 'pretty', parse: bool },
  { path: ['persistence', 'path'], env: 'RINGMASTER_PERSISTENCE_PATH', flag: '--persistence-path', key: 'persistencePath', parse: text },
  { path: ['cluster', 'node'], env: 'RINGMASTER_CLUSTER_NODE', flag: '--cluster-node', key: 'clusterNode', parse: text },
  { path: ['cluster', 'servers'], env: 'RINGMASTER_CLUSTER_SERVERS', flag: '--cluster-servers', key: 'clusterServers', parse: list },
];

export interface OverrideValue {
  path: readonly PathSegment[];
  origin: Origin;
  parsed: Parsed;
}

/**
 * The values the environment sets. An empty variable counts as unset, so
 * `RINGMASTER_HTTP_PORT=` in a shell or a compose file does not turn into an error.
 */
export function fromEnv(env: Readonly<Record<string, string | undefined>>): OverrideValue[] {
  const out: OverrideValue[] = [];
  for (const o of OVERRIDES) {
    const raw = env[o.env];
    if (raw === undefined || raw === '') continue;
    out.push({ path: o.path, origin: { kind: 'env', name: o.env }, parsed: o.parse(raw) });
  }
  return out;
}

export function fromFlags(flags: ConfigFlags): OverrideValue[] {
  const out: OverrideValue[] = [];
  for (const o of OVERRIDES) {
    const raw = flags[o.key];
    if (raw === undefined) continue;
    if (typeof raw === 'boolean') {
      out.push({ path: o.path, origin: { kind: 'flag', flag: raw ? o.flag : o.flag.replace(/^--/, '--no-') }, parsed: { value: raw } });
    } else {
      out.push({ path: o.path, origin: { kind: 'flag', flag: o.flag }, parsed: o.parse(raw) });
    }
  }
  return out;
}
