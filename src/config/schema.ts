import { z } from 'zod';
import { DEFAULT_ASK_TIMEOUT_MS, DEFAULT_DEAD_LETTER_LIMIT, DEFAULT_INBOX_SENDER_SLOTS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SEND_TIMEOUT_MS, DEFAULT_SPIN_MICROS } from '../defaults.js';
import type { TreeSpec } from '../supervisor/spec.js';
import type { SystemOptions } from '../system/system.js';

/** Loopback unless the file says otherwise: the endpoints describe, and with a token control, the system. */
export const DEFAULT_CONFIG_HTTP_HOST = '127.0.0.1';
/** The conventional port of the HTTP endpoints when the file asks for HTTP but names no port (0 = any free port). */
export const DEFAULT_CONFIG_HTTP_PORT = 9464;
export const DEFAULT_CONFIG_LOG_LEVEL = 'info';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

/** The `http` section; present = serve the HTTP endpoints. */
const httpSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  // Same rule as the server's: it travels in an `Authorization: Bearer` header.
  token: z.string().regex(/^\S+$/, 'must be a non-empty string without whitespace').optional(),
});

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS),
  pretty: z.boolean(),
});

/** ActorSystem.start options other than name, tree, log and baseDir. */
const systemSchema = z.strictObject({
  maxMessageBytes: positiveInt,
  spinMicros: nonNegativeInt,
  sendTimeoutMs: nonNegativeInt,
  askTimeoutMs: positiveInt,
  senderSlots: positiveInt,
  deadLetterLimit: nonNegativeInt,
});

/**
 * The merged configuration (defaults filled in) as the schema checks it.
 * `tree` is checked separately by resolveTree, the one authority on trees.
 */
export const configSchema = z.strictObject({
  name: z.string().min(1),
  tree: z.unknown().optional(),
  http: httpSchema.optional(),
  log: logSchema,
  system: systemSchema,
});

export type SystemTuning = z.infer<typeof systemSchema>;

export interface RingmasterConfig {
  name: string;
  /** The root supervisor exactly as written (validated; defaults are filled in by the system). */
  tree: TreeSpec;
  /** null = no HTTP listener. */
  http: { host: string; port: number; token?: string } | null;
  log: { level: LogLevel; pretty: boolean };
  system: SystemTuning;
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
    system: {
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      spinMicros: DEFAULT_SPIN_MICROS,
      sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
      askTimeoutMs: DEFAULT_ASK_TIMEOUT_MS,
      senderSlots: DEFAULT_INBOX_SENDER_SLOTS,
      deadLetterLimit: DEFAULT_DEAD_LETTER_LIMIT,
    },
  };
}

/** Defaults of the `http` section, filled in only once some source asks for HTTP. */
export const HTTP_DEFAULTS = { host: DEFAULT_CONFIG_HTTP_HOST, port: DEFAULT_CONFIG_HTTP_PORT } as const;

/** The ActorSystem.start options a config describes. */
export function toSystemOptions(config: RingmasterConfig): SystemOptions {
  return { name: config.name, tree: config.tree, baseDir: config.baseDir, log: { ...config.log }, ...config.system };
}
