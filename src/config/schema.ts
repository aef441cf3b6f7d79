import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevel } from '../defaults.js';
import type { TreeSpec } from '../supervisor/spec.js';
import { parseDuration } from '../alerts/rules.js';
import {
  logSchema,
  systemNameSchema,
  SYSTEM_TUNING_DEFAULTS,
  systemTuningSchema,
  TRANSPORT_DEFAULTS,
  transportSchema,
  persistenceSchema,
  jetstreamSchema,
  clusterSchema,
  tracingSchema,
  type PersistenceOptions,
  type SystemOptions,
  type SystemTuning,
  type TransportOptions,
} from '../system/options.js';

export { LOG_LEVELS };
export type { LogLevel, SystemTuning, TransportOptions };
/** The `cluster` section as the file gives it (checked; defaults are the system's). */
export type ClusterOptions = z.output<typeof clusterSchema>;
export { TRANSPORT_DEFAULTS };

/** Loopback unless the file says otherwise: the endpoints describe, and with a token control, the system. */
export const DEFAULT_CONFIG_HTTP_HOST = '127.0.0.1';
/** The conventional port of the HTTP endpoints when the file asks for HTTP but names no port (0 = any free port). */
export const DEFAULT_CONFIG_HTTP_PORT = 9464;
export const DEFAULT_CONFIG_LOG_LEVEL = DEFAULT_LOG_LEVEL;

/** A name or an IPv4 address: what a Host header carries before its port. */
const HOST_NAME = /^[^\s[\]/\\:@?#%]+$/;
/** Same rule as the server's `allowedHosts` (an IPv6 address may come with or without its brackets). */
function isHostEntry(s: string): boolean {
  const inner = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  return isIP(inner) === 6 || HOST_NAME.test(s);
}

/** The `http` section; present = serve the HTTP endpoints. */
const httpSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  // Same rule as the server's: it travels in an `Authorization: Bearer` header.
  token: z.string().regex(/^\S+$/, 'must be a non-empty string without whitespace').optional(),
  // Names the Host header may carry besides the bound address and the loopback names (the DNS-rebinding guard).
  allowedHosts: z.array(z.string().refine(isHostEntry, 'must be a host name or an IP address, without scheme, port or path')).optional(),
});

/**
 * The merged configuration (defaults filled in) as the schema checks it.
 * `tree` is checked separately by resolveTree, the one authority on trees;
 * name, log and the `system` section by the very schemas ActorSystem.start
 * uses (src/system/options.ts), so a file is refused for what start would refuse.
 */
export const configSchema = z.strictObject({
  name: systemNameSchema,
  tree: z.unknown().optional(),
  http: httpSchema.optional(),
  log: logSchema,
  system: systemTuningSchema,
  // Not among the defaults put in before the file: `spin` is a word or a mapping, and a default word would shadow the file's mapping.
  transport: transportSchema.partial().optional(),
  persistence: persistenceSchema.optional(),
  /** This system as one node of a cluster on NATS (docs/cluster.md). */
  cluster: clusterSchema.optional(),
  /** Tracing (docs/observability.md#tracing): true, or `{ setup }`, a module relative to the file. */
  tracing: tracingSchema.optional(),
  /** Alert rules (docs/observability.md#alerts); checked by checkAlertRules, the one authority on rules. */
  alerts: z.unknown().optional(),
  /** How often the alert rules are evaluated: a duration (`1s`, `500ms`) or ms. */
  alertInterval: z.union([z.number(), z.string()]).refine((v) => { const ms = parseDuration(v); return ms !== null && ms >= 10; }, 'must be a duration of at least 10ms, such as 1s, 500ms or a number of ms').optional(),
});

/** The fields each section takes, for "unknown field (known: …)". */
export const CONFIG_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(configSchema.shape),
  http: Object.keys(httpSchema.shape),
  log: Object.keys(logSchema.shape),
  system: Object.keys(systemTuningSchema.shape),
  transport: Object.keys(transportSchema.shape),
  persistence: Object.keys(persistenceSchema.shape),
  'persistence.jetstream': Object.keys(jetstreamSchema.shape),
  cluster: Object.keys(clusterSchema.shape),
  tracing: ['setup'],
};

export interface RingmasterConfig {
  name: string;
  /** The root supervisor exactly as written (validated; defaults are filled in by the system). */
  tree: TreeSpec;
  /** null = no HTTP listener. */
  http: { host: string; port: number; token?: string; allowedHosts?: string[] } | null;
  log: { level: LogLevel; pretty: boolean };
  system: SystemTuning;
  transport: TransportOptions;
  /** Persistent actors' journals: the SQLite database (a relative path resolves from the file's folder) or JetStream. */
  persistence: PersistenceOptions;
  /** This system as one node of a cluster; null: not one. */
  cluster: ClusterOptions | null;
  /** Tracing on (`setup`: the absolute path of its module, null without one); null = off. Read at start only. */
  tracing: { setup: string | null } | null;
  /** The `alerts:` rules as written (checked); [] without any. */
  alerts: unknown[];
  /** How often the alert rules are evaluated, ms. */
  alertIntervalMs: number;
  /** Absolute path of the file it came from. */
  file: string;
  /** Relative `module` paths resolve from here: the file's directory. */
  baseDir: string;
}

/** Values every config starts from; the file, then environment, then flags override them. */
export function configDefaults(name: string, stdoutIsTty: boolean): Record<string, unknown> {
  return {
    name,
    log: { level: DEFAULT_CONFIG_LOG_LEVEL, pretty: stdoutIsTty },
    system: { ...SYSTEM_TUNING_DEFAULTS },
  };
}

/** Defaults of the `http` section, filled in only once some source asks for HTTP. */
export const HTTP_DEFAULTS = { host: DEFAULT_CONFIG_HTTP_HOST, port: DEFAULT_CONFIG_HTTP_PORT } as const;

/** The ActorSystem.start options a config describes. */
export function toSystemOptions(config: RingmasterConfig): SystemOptions {
  const cluster = config.cluster ? { cluster: { ...config.cluster } } : {};
  const tracing = config.tracing ? { tracing: config.tracing.setup === null ? true : { setup: config.tracing.setup } } : {};
  return { name: config.name, tree: config.tree, baseDir: config.baseDir, log: { ...config.log }, transport: { ...config.transport }, persistence: { ...config.persistence }, ...cluster, ...tracing, ...config.system };
}
