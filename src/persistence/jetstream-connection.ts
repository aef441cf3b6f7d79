// Types only (erased from the build): the client itself is loaded with import() when a journal is opened.
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { covers } from './jetstream-layout.js';
import { connectNats, message, type NatsConnectConfig } from './nats-connection.js';

/**
 * The JetStream backend's connection: the NATS client is loaded only when a
 * persistent actor on this thread opens a journal there (a worker that
 * persists nothing, or to SQLite, never loads it), and one connection per
 * thread serves every journal opened with the same settings.
 */

/** The resolved `persistence.jetstream` settings (src/system/options.ts checks them). */
export interface JetStreamConfig extends NatsConnectConfig {
  /** The stream; null: `RM_<system name>`. */
  stream: string | null;
  /** Replicas of a stream this backend creates (an existing stream keeps its own). */
  replicas: number;
  /** How long one JetStream request (an append's acknowledgement, a read) may take, ms. */
  timeoutMs: number;
}

/** An open connection with its JetStream handles. */
export interface Link {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The largest message the server takes, bytes. */
  maxPayload: number;
  /** A new, empty set of message headers. */
  headers(): MsgHdrs;
  /** Find the stream (creating it if missing) and check it takes `subjects`; once per stream per connection. */
  stream(name: string, subjects: string, replicas: number): Promise<StreamInfo>;
}

type Js = typeof import('@nats-io/jetstream');

const links = new Map<string, { refs: number; link: Promise<Link> }>();

const INSTALL = 'the jetstream backend needs the packages @nats-io/transport-node and @nats-io/jetstream, 3.x: `npm install @nats-io/transport-node@3 @nats-io/jetstream@3`';

async function loadJs(): Promise<Js> {
  try {
    return await import('@nats-io/jetstream');
  } catch (err) {
    throw new Error(INSTALL, { cause: err });
  }
}

async function open(c: JetStreamConfig, name: string): Promise<Link> {
  const jsApi = await loadJs();
  const where = c.servers.join(', ');
  const { nats, nc } = await connectNats(c, name, 'the jetstream backend');
  let jsm: JetStreamManager;
  try {
    jsm = await jsApi.jetstreamManager(nc, { timeout: c.timeoutMs });
  } catch (err) {
    await nc.close().catch(() => {});
    throw new Error(`NATS at ${where} has no JetStream for this account (${message(err)}): start nats-server with -js, or enable JetStream for the account`, { cause: err });
  }
  const streams = new Map<string, Promise<StreamInfo>>();
  return {
    nc,
    jsm,
    js: jsApi.jetstream(nc, { timeout: c.timeoutMs }),
    maxPayload: nc.info?.max_payload ?? 1024 * 1024,
    headers: () => nats.headers(),
    stream(stream, subjects, replicas) {
      let p = streams.get(stream);
      if (!p) {
        p = ensureStream(jsApi, jsm, stream, subjects, replicas);
        streams.set(stream, p);
        p.catch(() => streams.delete(stream));
      }
      return p;
    },
  };
}

/** The stream `name`, made (file storage, every message kept) when missing; an existing one is never changed, only checked. */
async function ensureStream(jsApi: Js, jsm: JetStreamManager, name: string, subjects: string, replicas: number): Promise<StreamInfo> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(name);
  } catch (err) {
    if ((err as { code?: number }).code !== jsApi.JetStreamApiCodes.StreamNotFound) throw new Error(`cannot read the stream ${name}: ${message(err)}`, { cause: err });
    try {
      info = await jsm.streams.add({ name, subjects: [subjects], storage: jsApi.StorageType.File, num_replicas: replicas, retention: jsApi.RetentionPolicy.Limits, discard: jsApi.DiscardPolicy.Old });
    } catch (addErr) {
      // Another thread may have made it in the meantime; then it is there now.
      info = await jsm.streams.info(name).catch(() => {
        throw new Error(`cannot create the stream ${name} for ${subjects}: ${message(addErr)}`, { cause: addErr });
      });
    }
  }
  const cfg = info.config;
  if (!covers(cfg.subjects ?? [], subjects)) {
    throw new Error(`the stream ${name} exists and does not take ${subjects} (its subjects: ${(cfg.subjects ?? []).join(', ') || 'none'}): add it to the stream, or set persistence.jetstream.stream to another stream`);
  }
  const drops = [
    cfg.max_age > 0 && `max_age ${cfg.max_age / 1e9}s`,
    (cfg.max_msgs_per_subject ?? -1) > 0 && `max_msgs_per_subject ${cfg.max_msgs_per_subject}`,
    cfg.discard !== 'new' && cfg.max_msgs > 0 && `max_msgs ${cfg.max_msgs}`,
    cfg.discard !== 'new' && cfg.max_bytes > 0 && `max_bytes ${cfg.max_bytes}`,
    cfg.retention !== 'limits' && `retention ${cfg.retention}`,
  ].filter(Boolean);
  if (drops.length > 0) throw new Error(`the stream ${name} removes messages by itself (${drops.join(', ')}): a journal must keep every event; use a stream without these limits`);
  return info;
}

/** A connection with these settings, shared with the thread's other journals; `release` closes it after the last one. */
export function acquire(c: JetStreamConfig, name: string): { link: Promise<Link>; release: () => Promise<void> } {
  const key = JSON.stringify([c.servers, c.token, c.user, c.pass, c.tls, c.connectTimeoutMs, c.timeoutMs, c.options, name]);
  let entry = links.get(key);
  if (!entry) {
    const link = open(c, name);
    const made = { refs: 0, link };
    entry = made;
    links.set(key, made);
    // A connection that failed, or closed for good (its reconnects ran out), is not handed out again: the next journal opened connects anew.
    const forget = (): void => {
      if (links.get(key) === made) links.delete(key);
    };
    link.then((l) => l.nc.closed().then(forget, forget), forget);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    link: held.link,
    async release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      if (links.get(key) === held) links.delete(key);
      const l = await held.link.catch(() => null);
      if (l && !l.nc.isClosed()) await l.nc.close().catch(() => {});
    },
  };
}
