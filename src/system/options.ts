import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  DEFAULT_ASK_TIMEOUT_MS,
  DEFAULT_DEAD_LETTER_LIMIT,
  DEFAULT_INBOX_SENDER_SLOTS,
  DEFAULT_JETSTREAM_CONNECT_TIMEOUT_MS,
  DEFAULT_JETSTREAM_TIMEOUT_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RECORDER_ENTRIES,
  DEFAULT_SEND_TIMEOUT_MS,
  DEFAULT_SPIN_MICROS,
  LOG_LEVELS,
  MAX_INBOX_SENDER_SLOTS,
  MAX_JETSTREAM_REPLICAS,
  MAX_SPINNERS,
  MAX_SPIN_MICROS,
  MAX_TIMEOUT_MS,
  MIN_MAX_MESSAGE_BYTES,
  type LogLevel,
} from '../defaults.js';
import { InvalidOptionError } from '../errors.js';
import type { TracingBoot } from '../trace/tracing.js';
import { describe, recorderSchema, wholeNumber } from './option-schemas.js';
// Type only (erased from the build): validating options loads no part of the runtime.
import type { ConfigFor } from '../actor/protocol.js';
import type { JetStreamConfig } from '../persistence/jetstream-connection.js';
import { connectConfig } from '../persistence/nats-connection.js';
import { clusterSchema, resolveCluster, type ClusterConfig } from '../cluster/options.js';

export { clusterSchema };
import type { ChildSpec, TreeSpec } from '../supervisor/spec.js';

/**
 * The options of an ActorSystem: one schema, used by ActorSystem.start and by
 * the config loader alike, so a config file is refused for exactly what
 * start would refuse, with the same reason. The bounds are the runtime's own:
 * the Codec's smallest message limit, the doorbell's most sender slots, the
 * longest delay Node's timers schedule.
 */

const timeoutMs = wholeNumber('ms', 1, MAX_TIMEOUT_MS);
/** The system's name, shown in every log line. */
export const systemNameSchema = z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string');

const levelReason = (issue: { input?: unknown }): string => `must be one of ${LOG_LEVELS.join(', ')}, got ${describe(issue.input)}`;

/** The logger of the system and of every actor (a child's `logLevel` overrides the level). */
export const logSchema = z.strictObject({
  /** Any string is taken in (a level often comes from the environment), and must be one of pino's. */
  level: z.string({ error: levelReason }).pipe(z.enum(LOG_LEVELS, { error: levelReason })),
  /** Human-readable lines instead of JSON. */
  pretty: z.boolean(),
});

/** The tuning fields, all given: the `system` section of a config file once its defaults are in. */
export const systemTuningSchema = z.strictObject({
  /** Largest encoded message accepted at send, bytes. */
  maxMessageBytes: wholeNumber('bytes', MIN_MAX_MESSAGE_BYTES),
  /** How long a send waits for room in a full ring before the message is dead-lettered, ms. */
  sendTimeoutMs: timeoutMs,
  /** Default timeout of `ask`, ms. */
  askTimeoutMs: timeoutMs,
  /** Distinct (sender, lane) pairs that may write to one actor's inbox. */
  senderSlots: wholeNumber('', 1, MAX_INBOX_SENDER_SLOTS),
  /** Dead letters kept for inspection. */
  deadLetterLimit: wholeNumber('', 0),
  /** Messages each actor's flight recorder keeps (their metadata; with `payloadBytes`, their payloads' first bytes), read after a crash; 0 = none. */
  flightRecorder: recorderSchema,
});

export type SystemTuning = z.output<typeof systemTuningSchema>;

const spinObjectSchema = z.strictObject({
  /** Longest spin before a receiver parks, µs (0 = park at once). */
  micros: wholeNumber('µs', 0, MAX_SPIN_MICROS).optional(),
  /** Most threads of the process spinning at once; default one fewer than the cores, at least 1. */
  maxSpinners: wholeNumber('', 1, MAX_SPINNERS).optional(),
});

/**
 * How receivers wait for messages: `auto` spins a little while traffic is
 * close and the machine has a core to spare, `off` always parks, an object
 * sets the spin's length and the number of threads that may spin at once.
 */
export type SpinSetting = 'auto' | 'off' | z.input<typeof spinObjectSchema>;

export const spinSchema = z.custom<SpinSetting>(() => true).superRefine((v, ctx) => {
  if (v === 'auto' || v === 'off') return;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    // An object is judged by its own fields, each problem at its own path (`transport.spin.micros`).
    for (const issue of spinObjectSchema.safeParse(v).error?.issues ?? []) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return;
  }
  ctx.addIssue({ code: 'custom', message: `must be 'auto', 'off' or { micros, maxSpinners }, got ${describe(v)}` });
});

/** The data plane's settings: the `transport` section of a config file. */
export const transportSchema = z.strictObject({
  spin: spinSchema,
});

export type TransportOptions = z.output<typeof transportSchema>;

const SERVER = /^(?:(?:nats|tls):\/\/)?[^\s/]+\/?$/;
const server = z.string({ error: 'must be a NATS server address: nats://host:4222, tls://host:4222 or host:4222' }).regex(SERVER, 'must be a NATS server address: nats://host:4222, tls://host:4222 or host:4222');

/** A mapping that can travel to an actor's worker thread as it is (no functions, no class instances). */
const plainData = z.record(z.string(), z.unknown(), { error: 'must be a mapping' }).superRefine((v, ctx) => {
  try {
    structuredClone(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `must be plain data (it is sent to every persistent actor's thread): ${(err as Error).message}` });
  }
});

/** Fields of the NATS client's options that have a field of their own here. */
const NAMED: Readonly<Record<string, string>> = { servers: 'servers', token: 'token', user: 'user', pass: 'pass', tls: 'tls', timeout: 'connectTimeoutMs', name: '' };

/** The jetstream backend's connection and stream: `persistence.jetstream`. */
export const jetstreamSchema = z.strictObject({
  /** One address or several (of one cluster). */
  servers: z.union([server, z.array(server, { error: 'must be a server address or a list of them' }).min(1, 'must name at least one server')], {
    error: 'must be a NATS server address or a list of them',
  }),
  /** The stream every journal of the system goes in; default `RM_<system name>`. */
  stream: z
    .string({ error: 'must be a stream name' })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a stream name: letters, digits, _ and - (no dots, spaces or wildcards)')
    .optional(),
  /** Replicas of the stream when this backend creates it (an existing stream keeps its own). Default 1. */
  replicas: wholeNumber('', 1, MAX_JETSTREAM_REPLICAS).optional(),
  token: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string').optional(),
  user: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string').optional(),
  pass: z.string({ error: 'must be a string' }).optional(),
  /** The client's TLS settings (`caFile`, `certFile`, `keyFile`, …), as the NATS client takes them. */
  tls: plainData.optional(),
  /** How long the first connection may take, ms. Default 5000. */
  connectTimeoutMs: timeoutMs.optional(),
  /** How long one JetStream request may take (an append's acknowledgement, a read), ms. Default 5000. */
  timeoutMs: timeoutMs.optional(),
  /** Any other NATS ConnectionOptions, passed to the client as they are. */
  options: plainData.optional(),
});

/** Where persistent actors keep their journals: the `persistence` section of a config file. */
export const persistenceSchema = z
  .strictObject({
    /** `sqlite` (the default): one database file; `jetstream`: a NATS JetStream stream, for a cluster. */
    backend: z.enum(['sqlite', 'jetstream'], { error: (i) => `must be 'sqlite' or 'jetstream', got ${describe(i.input)}` }).optional(),
    /** The SQLite database file; relative paths resolve from baseDir. Default `data/<system name>.db` under process.cwd(). */
    path: z.string().min(1).optional(),
    /** `normal`: a commit survives the process dying; `full`: an fsync per commit, it survives the machine losing power too. */
    synchronous: z.enum(['normal', 'full']).optional(),
    /** Keep every dead letter in the database too (listed and replayed with `ringmaster dead-letters`, /api/dead-letters). Default false. */
    deadLetters: z.boolean().optional(),
    /** The jetstream backend's servers and stream (required with `backend: jetstream`). */
    jetstream: jetstreamSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const issue = (path: PropertyKey[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (p.backend === 'jetstream' && !p.jetstream) issue(['jetstream'], "is required with backend 'jetstream': { servers: 'nats://host:4222' } at least");
    if (p.jetstream && p.backend !== 'jetstream') issue(['backend'], `must be 'jetstream' when persistence.jetstream is given, got ${describe(p.backend ?? 'sqlite')}`);
    const j = p.jetstream;
    if (!j) return;
    if (j.token !== undefined && (j.user !== undefined || j.pass !== undefined)) issue(['jetstream', 'token'], 'cannot be used with user and pass: authenticate one way');
    if (j.user !== undefined && j.pass === undefined) issue(['jetstream', 'pass'], 'is required with user');
    if (j.pass !== undefined && j.user === undefined) issue(['jetstream', 'user'], 'is required with pass');
    for (const k of Object.keys(j.options ?? {})) {
      if (k in NAMED) issue(['jetstream', 'options', k], NAMED[k] ? `is set by persistence.jetstream.${NAMED[k]}, not here` : 'is set by ringmaster (the system\'s name)');
    }
  });

export type PersistenceOptions = z.output<typeof persistenceSchema>;

export const TRANSPORT_DEFAULTS: Readonly<TransportOptions> = Object.freeze({ spin: 'auto' });

/** Spinning as the runtime applies it: every figure given. */
export interface ResolvedSpin {
  micros: number;
  maxSpinners: number;
  /** Spin only while recent gaps between messages are shorter than the spin. */
  adaptive: boolean;
}

/** The spin a `transport.spin` setting means on this machine. */
export function resolveSpin(spin: TransportOptions['spin'] | undefined): ResolvedSpin {
  const maxSpinners = Math.max(1, availableParallelism() - 1);
  if (spin === undefined || spin === 'auto') return { micros: DEFAULT_SPIN_MICROS, maxSpinners, adaptive: true };
  if (spin === 'off') return { micros: 0, maxSpinners, adaptive: true };
  return { micros: spin.micros ?? DEFAULT_SPIN_MICROS, maxSpinners: spin.maxSpinners ?? maxSpinners, adaptive: true };
}

/** What every system starts from; a config file's `system` section and ActorSystem.start's options override it. */
export const SYSTEM_TUNING_DEFAULTS: Readonly<SystemTuning> = Object.freeze({
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
  askTimeoutMs: DEFAULT_ASK_TIMEOUT_MS,
  senderSlots: DEFAULT_INBOX_SENDER_SLOTS,
  deadLetterLimit: DEFAULT_DEAD_LETTER_LIMIT,
  flightRecorder: DEFAULT_RECORDER_ENTRIES,
});

/** `tracing`: true, or `{ setup }` (a module path); the same in ActorSystem.start and a config file. */
export const tracingSchema = z.union([z.boolean(), z.object({ setup: z.string().min(1).optional() }).strict()]);

/**
 * ActorSystem.start's options other than the tree (which resolveTree checks,
 * the one authority on trees). Unknown top-level keys are ignored, as they
 * always were; an unknown key inside `log` is an error, as in a config file.
 */
export const systemOptionsSchema = z.object({
  name: systemNameSchema,
  /**
   * Relative `module` paths are resolved from here: a folder, or a file
   * (then its folder), as a path or a file URL — `baseDir: import.meta.url`
   * resolves modules next to the file that starts the system. Default process.cwd().
   */
  baseDir: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  /** Level for the system and every actor (a child's `logLevel` overrides); pretty: human-readable lines (default: when stdout is a terminal). */
  log: logSchema.partial().optional(),
  /** The data plane: `{ spin: 'auto' | 'off' | { micros, maxSpinners } }`. */
  transport: transportSchema.partial().optional(),
  /** Persistent actors' journals: `{ backend?, path?, synchronous?, deadLetters?, jetstream? }`. */
  persistence: persistenceSchema.optional(),
  /** This system as one node of a cluster on NATS: `{ node, servers, heartbeatMs?, misses?, … }` (docs/cluster.md). */
  cluster: clusterSchema.optional(),
  /** A span per handled message, trace context in every envelope (docs/observability.md#tracing): true, or `{ setup }`, a module each worker imports first. */
  tracing: tracingSchema.optional(),
  ...systemTuningSchema.partial().shape,
});

/** ActorSystem.start's options: `name` and `tree` required, every other field optional. */
export interface SystemOptions extends z.input<typeof systemOptionsSchema> {
  /** The root supervisor. */
  tree: TreeSpec;
}

/**
 * What `system.spawn` takes: a child spec, or `{ id, config? }` under a
 * simple_one_for_one supervisor. `config` is checked against the actor's
 * `ctx.config` when `T` is its type.
 */
export type SpawnSpec<T = unknown> = (Omit<ChildSpec, 'config'> & { config?: ConfigFor<T> }) | { id: string; config?: ConfigFor<T> };

/** The options as the system runs with them: every default filled in (the tree aside, resolved by resolveTree). */
export interface ResolvedSystemOptions extends SystemTuning {
  name: string;
  baseDir: string;
  logLevel: LogLevel;
  logPretty: boolean;
  spin: ResolvedSpin;
  /** Where persistent actors keep their journals: the SQLite database (absolute; also the dead letters' with `deadLetters`), or JetStream. */
  persistence: { backend: 'sqlite' | 'jetstream'; path: string; synchronous: 'normal' | 'full'; deadLetters: boolean; jetstream: JetStreamConfig | null };
  /** null: not a cluster node. */
  cluster: ClusterConfig | null;
  /** null: tracing off; else what each worker boots it with (`setup` as a file: URL). */
  tracing: TracingBoot | null;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/**
 * The folder relative module paths resolve from: `base` as a path (relative
 * to process.cwd()), a `file:` URL string or a URL; a file stands for its folder.
 */
export function resolveBaseDir(base: string | URL): string {
  let path: string;
  try {
    path = base instanceof URL || base.startsWith('file:') ? fileURLToPath(base) : resolve(base);
  } catch (err) {
    throw new InvalidOptionError('baseDir', `must be a folder, a file or a file: URL, got ${String(base)} (${(err as Error).message})`);
  }
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new InvalidOptionError('baseDir', `no such file or folder: ${path}`);
  return st.isDirectory() ? path : dirname(path);
}

/**
 * Validate ActorSystem.start's options and fill in the defaults. The first
 * problem throws an InvalidOptionError naming the field and the reason
 * (`sendTimeoutMs must be a whole number of ms from 1 to 2147483647, got 0`).
 */
export function resolveSystemOptions(options: Omit<SystemOptions, 'tree'>): ResolvedSystemOptions {
  const r = systemOptionsSchema.safeParse(options ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new InvalidOptionError(pathOf([...issue.path, issue.keys[0]!]), 'is not a known option');
    if (issue.path.length === 0) throw new InvalidOptionError('options', `must be an object, got ${describe(options)}`);
    throw new InvalidOptionError(pathOf(issue.path), issue.message);
  }
  const o = r.data;
  const baseDir = o.baseDir === undefined ? process.cwd() : resolveBaseDir(o.baseDir);
  return {
    name: o.name,
    baseDir,
    logLevel: o.log?.level ?? DEFAULT_LOG_LEVEL,
    logPretty: o.log?.pretty ?? process.stdout.isTTY === true,
    maxMessageBytes: o.maxMessageBytes ?? SYSTEM_TUNING_DEFAULTS.maxMessageBytes,
    spin: resolveSpin(o.transport?.spin),
    persistence: {
      path: o.persistence?.path === undefined ? resolve(process.cwd(), 'data', `${o.name}.db`) : resolve(baseDir, o.persistence.path),
      synchronous: o.persistence?.synchronous ?? 'normal',
      deadLetters: o.persistence?.deadLetters ?? false,
      backend: o.persistence?.backend ?? 'sqlite',
      jetstream: o.persistence?.jetstream ? resolveJetStream(o.persistence.jetstream) : null,
    },
    cluster: o.cluster ? resolveCluster(o.cluster) : null,
    tracing: !o.tracing ? null : { setup: o.tracing === true || o.tracing.setup === undefined ? null : pathToFileURL(resolve(baseDir, o.tracing.setup)).href },
    sendTimeoutMs: o.sendTimeoutMs ?? SYSTEM_TUNING_DEFAULTS.sendTimeoutMs,
    askTimeoutMs: o.askTimeoutMs ?? SYSTEM_TUNING_DEFAULTS.askTimeoutMs,
    senderSlots: o.senderSlots ?? SYSTEM_TUNING_DEFAULTS.senderSlots,
    deadLetterLimit: o.deadLetterLimit ?? SYSTEM_TUNING_DEFAULTS.deadLetterLimit,
    flightRecorder: o.flightRecorder ?? SYSTEM_TUNING_DEFAULTS.flightRecorder,
  };
}

/** `persistence.jetstream` with its defaults filled in. */
function resolveJetStream(j: z.output<typeof jetstreamSchema>): JetStreamConfig {
  return { ...connectConfig(j, DEFAULT_JETSTREAM_CONNECT_TIMEOUT_MS), stream: j.stream ?? null, replicas: j.replicas ?? 1, timeoutMs: j.timeoutMs ?? DEFAULT_JETSTREAM_TIMEOUT_MS };
}
