// Types only (erased from the build): the client itself is loaded with import() when a connection opens.
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';

/**
 * Opening a NATS connection, shared by the JetStream journal (in a
 * persistent actor's thread) and the cluster (on the main thread): the client
 * is loaded with `import()` only when a connection opens, the first connect
 * is bounded by a timeout, and a failure says where and why.
 */

/** Where and how to connect. */
export interface NatsConnectConfig {
  /** NATS server addresses (`nats://host:4222`, `host:4222`, `tls://host:4222`). */
  servers: string[];
  token?: string;
  user?: string;
  pass?: string;
  /** Client TLS settings, as the NATS client takes them (`caFile`, `certFile`, `keyFile`, …). */
  tls?: Record<string, unknown>;
  /** How long the first connection may take, ms. */
  connectTimeoutMs: number;
  /** Other NATS ConnectionOptions, passed as they are (plain data). */
  options?: Record<string, unknown>;
}

/** The connection fields of a checked `cluster` or `persistence.jetstream` section, with the defaults filled in. */
export function connectConfig(
  c: { servers: string | string[]; token?: string; user?: string; pass?: string; tls?: Record<string, unknown>; connectTimeoutMs?: number; options?: Record<string, unknown> },
  defaultConnectTimeoutMs: number,
): NatsConnectConfig {
  const r: NatsConnectConfig = { servers: typeof c.servers === 'string' ? [c.servers] : c.servers, connectTimeoutMs: c.connectTimeoutMs ?? defaultConnectTimeoutMs };
  if (c.token !== undefined) r.token = c.token;
  if (c.user !== undefined) r.user = c.user;
  if (c.pass !== undefined) r.pass = c.pass;
  if (c.tls !== undefined) r.tls = c.tls;
  if (c.options !== undefined) r.options = c.options;
  return r;
}

export type Nats = typeof import('@nats-io/transport-node');

const INSTALL = 'needs the package @nats-io/transport-node, 3.x: `npm install @nats-io/transport-node@3`';

/** The NATS client, loaded on first use; `who` names what needs it in the error (`the jetstream backend`, `the cluster`). */
export async function loadNats(who: string): Promise<Nats> {
  try {
    return await import('@nats-io/transport-node');
  } catch (err) {
    throw new Error(`${who} ${INSTALL}`, { cause: err });
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A connection named `name` (servers see it in their connection lists). */
export async function connectNats(c: NatsConnectConfig, name: string, who: string): Promise<{ nats: Nats; nc: NatsConnection }> {
  const nats = await loadNats(who);
  const o: ConnectionOptions = { ...(c.options as ConnectionOptions | undefined), name, servers: c.servers, timeout: c.connectTimeoutMs };
  if (c.token !== undefined) o.token = c.token;
  if (c.user !== undefined) o.user = c.user;
  if (c.pass !== undefined) o.pass = c.pass;
  if (c.tls !== undefined) o.tls = c.tls as ConnectionOptions['tls'];
  try {
    return { nats, nc: await nats.connect(o) };
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${c.servers.join(', ')}: ${message(err)}`, { cause: err });
  }
}
