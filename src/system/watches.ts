import type { Logger } from 'pino';
import { checkWatchId, type Terminated, type TerminatedNotice } from '../actor/watch.js';
import type { ChildCell } from '../cell/contract.js';
import type { ClusterNode } from '../cluster/node.js';
import { systemAt } from '../cluster/layout.js';
import type { WatchWire } from '../cluster/watches.js';
import type { Envelope } from '../codec/envelope.js';
import { InvalidOptionError } from '../errors.js';
import type { HostToMain } from '../host/protocol.js';
import { SYSTEM_ID } from './endpoint.js';
import type { EventHub } from './events.js';
import { WatchTable, type WatchInfo } from './watch-table.js';

export type { Terminated, WatchInfo };

/** What the watch registry needs of its system. */
export interface WatchParts {
  cells: ReadonlyMap<string, ChildCell>;
  /** Send an envelope from the main thread (the `terminated` notice to a local watcher). */
  send(env: Envelope): void;
  cluster(): ClusterNode | null;
  log: Logger;
  /** The system's events: each `crashed` and `stopped` ends an incarnation, each `node-down` a node's. */
  events: EventHub;
}

/** A main-thread watch: its number and who is told. */
interface MainWatch {
  seq: number;
  listeners: Set<(t: Terminated) => void>;
}

/** A watcher may add watches while its incarnation starts or runs (not once it is ending: they would outlive it). */
const watching = (cell: ChildCell | undefined): boolean => cell?.record.state === 'starting' || cell?.record.state === 'running';

/**
 * Death watch, on the main thread of each node: who watches which actor,
 * and the `terminated` notices when a watched incarnation ends. Actors watch
 * through their control port (`ctx.watch`), the main thread through
 * `system.watch`, and the actors of other nodes through the cluster's watch
 * subjects. The system calls `ended` for each incarnation that ends (its
 * `crashed` or `stopped` event, or a retire that ends one for good) and
 * `nodeDown` for a node that goes down.
 */
export class SystemWatches {
  readonly table = new WatchTable();
  readonly #p: WatchParts;
  readonly #main = new Map<string, MainWatch>();
  #mainSeq = 0;

  constructor(p: WatchParts) {
    this.#p = p;
    p.events.on('*', (e) => {
      if (e.type === 'crashed') {
        const error = { message: e.reason, cause: e.cause, ...(e.code === undefined ? {} : { code: e.code }) };
        this.ended(e.actor, { type: 'terminated', id: e.actor, reason: 'crashed', error });
      } else if (e.type === 'stopped') this.ended(e.actor, { type: 'terminated', id: e.actor, reason: 'stopped', detail: e.reason });
      else if (e.type === 'node-down') this.nodeDown(e.node, e.reason);
    });
  }

  /** A local actor's `ctx.watch` or `ctx.unwatch`. */
  fromActor(actor: string, m: Extract<HostToMain, { type: 'watch' | 'unwatch' }>): void {
    if (m.type === 'unwatch') return this.#unwatch(actor, m.target);
    if (watching(this.#p.cells.get(actor))) this.#watch(actor, m.target, m.seq, undefined);
  }

  /** `system.watch(id, listener)`: the main thread's one watch of `id` (more listeners share it); returns the listener's unwatch. */
  watchFromMain(id: string, listener: (t: Terminated) => void): () => void {
    checkWatchId(id, 'system.watch(id)');
    if (typeof listener !== 'function') throw new InvalidOptionError('system.watch(id, listener)', `listener must be a function, got ${typeof listener}`);
    let w = this.#main.get(id);
    if (!w) {
      w = { seq: ++this.#mainSeq, listeners: new Set([listener]) };
      this.#main.set(id, w);
      this.#watch(SYSTEM_ID, id, w.seq, undefined);
    } else w.listeners.add(listener);
    const mine = w;
    return () => {
      mine.listeners.delete(listener);
      if (mine.listeners.size === 0 && this.#main.get(id) === mine) this.unwatchFromMain(id);
    };
  }

  /** `system.unwatch(id)`: the main thread's watch of `id` and its listeners are dropped (a no-op when none). */
  unwatchFromMain(id: string): void {
    checkWatchId(id, 'system.unwatch(id)');
    if (this.#main.delete(id)) this.#unwatch(SYSTEM_ID, id);
  }

  /** Actor `actor`'s incarnation ended: its watchers are told, and the watches it held itself are dropped. */
  ended(actor: string, t: Terminated): void {
    for (const w of this.table.ended(actor)) this.#notify(w.watcher, w.seq, t, w.watcherNode);
    for (const w of this.table.dropWatcher(actor)) if (w.targetNode !== undefined) this.#toNode(w.targetNode, { op: 'unwatch', watcher: actor, target: w.target });
  }

  /**
   * Node `node` is down: what this node watched there ends with `node-down`; what its actors watched here is
   * dropped. Both sides are told too, at most once and in case it is not dead (a heartbeat late beyond the
   * bound): it drops this node's watches, and its watchers learn that their watches here ended with `node-down`.
   */
  nodeDown(node: string, reason: Extract<Terminated, { reason: 'node-down' }>['detail']): void {
    const { fired, dropped } = this.table.nodeDown(node);
    const wire = this.#p.cluster()?.watches;
    for (const w of fired) {
      this.#notify(w.watcher, w.seq, { type: 'terminated', id: w.target, reason: 'node-down', node, detail: reason }, undefined);
      wire?.send(node, { op: 'unwatch', watcher: this.#wireId(w.watcher), target: w.target });
    }
    const self = this.#p.cluster()?.node;
    if (self === undefined) return;
    for (const w of dropped) wire?.send(node, { op: 'terminated', watcher: w.watcher, target: w.target, seq: w.seq, t: { type: 'terminated', id: w.target, reason: 'node-down', node: self, detail: reason } });
  }

  /** A watch message from node `node` (src/cluster/watches.ts). */
  fromNode(node: string, m: WatchWire): void {
    if (m.op === 'watch') return this.#watch(m.watcher, m.target, m.seq, node);
    if (m.op === 'unwatch') {
      if (this.table.watcherNode(m.watcher) === node) this.table.remove(m.watcher, m.target);
      return;
    }
    const watcher = m.watcher === this.#wireId(SYSTEM_ID) ? SYSTEM_ID : m.watcher;
    // Only the answer to the watch this node has out there now (an earlier one's is stale).
    if (this.table.targetNode(m.target) !== node || this.table.seqOf(watcher, m.target) !== m.seq) return;
    this.table.remove(watcher, m.target);
    this.#notify(watcher, m.seq, { ...m.t, node: m.t.node ?? node } as Terminated, undefined);
  }

  list(): WatchInfo[] {
    return this.table.list();
  }

  /** `watcher` (of node `from`, or of this one) watches `target`, its watch number `seq`. */
  #watch(watcher: string, target: string, seq: number, from: string | undefined): void {
    const cell = this.#p.cells.get(target);
    if (cell && !cell.record.retired) return this.table.add(watcher, target, seq, { watcherNode: from });
    const cluster = this.#p.cluster();
    const host = cell || from !== undefined ? undefined : cluster?.hostOf(target);
    if (!host) return this.#notify(watcher, seq, { type: 'terminated', id: target, reason: 'no-such-actor' }, from);
    if (!host.up) return this.#notify(watcher, seq, { type: 'terminated', id: target, reason: 'node-down', node: host.node, detail: host.reason ?? 'timeout' }, undefined);
    this.table.add(watcher, target, seq, { targetNode: host.node });
    this.#toNode(host.node, { op: 'watch', watcher: this.#wireId(watcher), target, seq });
  }

  #unwatch(watcher: string, target: string): void {
    const node = this.table.targetNode(target);
    if (this.table.remove(watcher, target) !== undefined && node !== undefined) this.#toNode(node, { op: 'unwatch', watcher: this.#wireId(watcher), target });
  }

  /** Tell `watcher` (of node `to`, when another node's) that its watch `seq` ended with `t`. */
  #notify(watcher: string, seq: number, t: Terminated, to: string | undefined): void {
    if (to !== undefined) return this.#toNode(to, { op: 'terminated', watcher, target: t.id, seq, t });
    if (watcher === SYSTEM_ID) return this.#notifyMain(seq, t);
    const cell = this.#p.cells.get(watcher);
    if (!watching(cell)) return; // the watcher is ending too: nobody is there to tell
    // The incarnation running now made the watch (an ended one's watches are gone).
    const notice: TerminatedNotice = { t, seq, inc: cell!.incarnation };
    try {
      this.#p.send({ kind: 'terminated', from: SYSTEM_ID, to: watcher, id: 0, payload: notice, priority: 'system' });
    } catch (err) {
      this.#p.log.warn({ err, watcher, target: t.id }, 'a terminated notice could not be sent');
    }
  }

  #notifyMain(seq: number, t: Terminated): void {
    const w = this.#main.get(t.id);
    if (!w || w.seq !== seq) return;
    this.#main.delete(t.id);
    // Never inside the caller's own system.watch(): a listener runs once the call has returned.
    queueMicrotask(() => {
      for (const listener of w.listeners) {
        try {
          listener(t);
        } catch (err) {
          this.#p.log.error({ err, target: t.id }, 'a system.watch listener threw');
        }
      }
    });
  }

  #toNode(node: string, m: WatchWire): void {
    if (!this.#p.cluster()?.watches.send(node, m)) this.#p.log.warn({ node, op: m.op, target: m.target }, 'cluster: a watch message could not be sent (no connection)');
  }

  /** The id another node knows `watcher` by: the main thread is `$system@<node>` there. */
  #wireId(watcher: string): string {
    const cluster = this.#p.cluster();
    return watcher === SYSTEM_ID && cluster ? systemAt(cluster.node) : watcher;
  }
}
