// Types only (erased from the build): the NATS client is loaded with import() when a node joins.
import type { NatsConnection } from '@nats-io/transport-node';
import { Packr, Unpackr } from 'msgpackr/pack';
import { readTerminated, type Terminated } from '../actor/watch.js';
import { NODE_NAME } from './layout.js';

/**
 * Watches across nodes, on the wire: what goes on `rm.<system>.c.n.<node>.w`
 * (the subject of the node that is to act on it). A watcher's node tells the
 * watched actor's node `watch` and `unwatch`; the watched actor's node answers
 * `terminated` once that actor's incarnation ends (or at once, `no-such-actor`,
 * when it hosts no such actor). A node going down needs no message: each node
 * sees it from membership and settles what it watched there with `node-down`.
 *
 * `watcher` is the watching actor's id (unique in the cluster), or
 * `$system@<node>` for a node's main thread; `seq` is the watcher's number for
 * that watch, echoed by `terminated` so an answer to an earlier watch is
 * recognised as stale.
 */
export type WatchWire =
  | { op: 'watch'; watcher: string; target: string; seq: number }
  | { op: 'unwatch'; watcher: string; target: string }
  | { op: 'terminated'; watcher: string; target: string; seq: number; t: Terminated };

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

/** The bytes of `m`, sent by node `node`. */
export function encodeWatch(node: string, m: WatchWire): Uint8Array {
  return packr.pack({ ...m, node });
}

/** A watch message and its sender's node, or null for bytes that are not one (msgpackr without records builds plain objects only). */
export function decodeWatch(data: Uint8Array): { node: string; m: WatchWire } | null {
  let v: unknown;
  try {
    v = unpackr.unpack(data);
  } catch {
    return null;
  }
  const o = v as Partial<Record<string, unknown>> | null;
  if (typeof o !== 'object' || o === null || typeof o.node !== 'string' || !NODE_NAME.test(o.node)) return null;
  const { node, op, watcher, target, seq } = o;
  if (typeof watcher !== 'string' || typeof target !== 'string' || watcher.length === 0 || target.length === 0) return null;
  if (op === 'unwatch') return { node, m: { op, watcher, target } };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return null;
  if (op === 'watch') return { node, m: { op, watcher, target, seq } };
  const t = op === 'terminated' ? readTerminated(o.t) : null;
  return t && t.id === target ? { node, m: { op: 'terminated', watcher, target, seq, t } } : null;
}

/** Where watch messages of other nodes go on this node (the system's watch registry). */
export interface WatchHooks {
  fromNode(node: string, m: WatchWire): void;
}

type Log = { warn(o: object, m: string): void };

/** This node's end of the watch subjects: sends to another node's, reads its own. */
export class ClusterWatches {
  readonly #self: string;
  readonly #subject: (node: string) => string;
  readonly #nc: () => NatsConnection | null;
  readonly #hooks: WatchHooks;
  readonly #log: Log;

  constructor(self: string, subject: (node: string) => string, nc: () => NatsConnection | null, hooks: WatchHooks, log: Log) {
    this.#self = self;
    this.#subject = subject;
    this.#nc = nc;
    this.#hooks = hooks;
    this.#log = log;
  }

  /** Send `m` to node `node`; false when this node's connection is gone (the node then counts down anyway). */
  send(node: string, m: WatchWire): boolean {
    const nc = this.#nc();
    if (!nc || nc.isClosed()) return false;
    nc.publish(this.#subject(node), encodeWatch(this.#self, m));
    return true;
  }

  /** A message on this node's watch subject. */
  incoming(data: Uint8Array): void {
    const w = decodeWatch(data);
    if (!w) return this.#log.warn({ bytes: data.length }, 'cluster: a watch message that cannot be read was dropped');
    if (w.node === this.#self) return;
    this.#hooks.fromNode(w.node, w.m);
  }
}
