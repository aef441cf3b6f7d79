import { z } from 'zod';
import { DEFAULT_CLUSTER_HEARTBEAT_MS, DEFAULT_CLUSTER_MISSES, DEFAULT_JETSTREAM_CONNECT_TIMEOUT_MS, MAX_CLUSTER_MISSES, MAX_TIMEOUT_MS } from '../defaults.js';
import { connectConfig, type NatsConnectConfig } from '../persistence/nats-connection.js';
import { NODE_NAME } from './layout.js';

/**
 * The `cluster` option of a system (and section of a config file): this
 * node's name, the NATS servers, the heartbeat, and the connection's
 * credentials, as `persistence.jetstream` takes them.
 */

const SERVER = /^(?:(?:nats|tls):\/\/)?[^\s/]+\/?$/;
const serverReason = 'must be a NATS server address: nats://host:4222, tls://host:4222 or host:4222';
const server = z.string({ error: serverReason }).regex(SERVER, serverReason);

const whole = (unit: string, min: number, max: number): z.ZodNumber => {
  const error = (i: { input?: unknown }): string => `must be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}, got ${JSON.stringify(i.input) ?? String(i.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const plain = z.record(z.string(), z.unknown(), { error: 'must be a mapping' }).superRefine((v, ctx) => {
  try {
    structuredClone(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `must be plain data: ${(err as Error).message}` });
  }
});

/** Options of the NATS client that have a field of their own here (or that ringmaster sets). */
const NAMED: Readonly<Record<string, string>> = { servers: 'servers', token: 'token', user: 'user', pass: 'pass', tls: 'tls', timeout: 'connectTimeoutMs', name: '' };

export const clusterSchema = z
  .strictObject({
    /** This node's name, unique in the cluster: letters, digits, `_` and `-`. */
    node: z.string({ error: 'must be a node name' }).regex(NODE_NAME, 'must be a node name: 1 to 64 letters, digits, _ or - (it is a NATS subject token)'),
    /** One address or several (of one NATS cluster). */
    servers: z.union([server, z.array(server, { error: 'must be a server address or a list of them' }).min(1, 'must name at least one server')], {
      error: 'must be a NATS server address or a list of them',
    }),
    /** How often this node says it is alive, ms. Default 1000. */
    heartbeatMs: whole('ms', 10, 60_000).optional(),
    /** Heartbeats missed in a row before the others count this node down. Default 3. */
    misses: whole('', 1, MAX_CLUSTER_MISSES).optional(),
    token: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string').optional(),
    user: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string').optional(),
    pass: z.string({ error: 'must be a string' }).optional(),
    tls: plain.optional(),
    /** How long the first connection may take, ms. Default 5000. */
    connectTimeoutMs: whole('ms', 1, MAX_TIMEOUT_MS).optional(),
    /** Any other NATS ConnectionOptions, passed to the client as they are. */
    options: plain.optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: PropertyKey[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (c.token !== undefined && (c.user !== undefined || c.pass !== undefined)) issue(['token'], 'cannot be used with user and pass: authenticate one way');
    if (c.user !== undefined && c.pass === undefined) issue(['pass'], 'is required with user');
    if (c.pass !== undefined && c.user === undefined) issue(['user'], 'is required with pass');
    for (const k of Object.keys(c.options ?? {})) if (k in NAMED) issue(['options', k], NAMED[k] ? `is set by cluster.${NAMED[k]}, not here` : "is set by ringmaster (the node's name)");
  });

/** The resolved `cluster` option. */
export interface ClusterConfig extends NatsConnectConfig {
  node: string;
  heartbeatMs: number;
  misses: number;
}

export function resolveCluster(c: z.output<typeof clusterSchema>): ClusterConfig {
  return {
    ...connectConfig(c, DEFAULT_JETSTREAM_CONNECT_TIMEOUT_MS),
    node: c.node,
    heartbeatMs: c.heartbeatMs ?? DEFAULT_CLUSTER_HEARTBEAT_MS,
    misses: c.misses ?? DEFAULT_CLUSTER_MISSES,
  };
}
