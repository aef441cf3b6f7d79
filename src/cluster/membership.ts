import type { NodeDownReason } from '../errors.js';
import type { Beat } from './layout.js';

/** One node of the cluster as `system.nodes()` lists it. */
export interface NodeInfo {
  node: string;
  state: 'up' | 'down';
  /** When its latest heartbeat (or its leaving) reached this node, epoch ms; for this node itself, now. */
  lastSeen: number;
  /** The actor ids it hosts (as its latest heartbeat said). */
  actors: string[];
  /** This node itself. */
  self: boolean;
  /** Why it is down. */
  reason?: NodeDownReason;
}

interface Entry {
  node: string;
  iid: string;
  state: 'up' | 'down';
  lastSeen: number;
  actors: string[];
  reason?: NodeDownReason;
}

export interface MembershipEvents {
  up(node: string, actors: readonly string[]): void;
  down(node: string, reason: NodeDownReason): void;
}

/**
 * The other nodes as this one knows them, from their heartbeats: up while
 * one came within `limitMs` (heartbeatMs × misses), down once they said
 * they leave, fell silent, or came back as a new instance (a restart: what
 * the old one held is gone). Also where each actor id is hosted.
 */
export class Membership {
  readonly #self: string;
  readonly #limitMs: number;
  readonly #events: MembershipEvents;
  readonly #members = new Map<string, Entry>();
  /** actor id → the node that hosts it (kept while that node is down: messages to it fail with NodeDownError). */
  readonly #host = new Map<string, string>();

  constructor(self: string, limitMs: number, events: MembershipEvents) {
    this.#self = self;
    this.#limitMs = limitMs;
    this.#events = events;
  }

  /** A heartbeat (or an answer to `who`) of another node. */
  beat(b: Beat, now = Date.now()): void {
    if (b.node === this.#self) return;
    let e = this.#members.get(b.node);
    if (e && e.state === 'up' && e.iid !== b.iid) this.#down(e, 'restarted', now);
    const wasUp = e?.state === 'up';
    if (!e) this.#members.set(b.node, (e = { node: b.node, iid: b.iid, state: 'up', lastSeen: now, actors: [] }));
    for (const id of e.actors) if (this.#host.get(id) === b.node && !b.actors.includes(id)) this.#host.delete(id);
    Object.assign(e, { iid: b.iid, state: 'up', lastSeen: now, actors: b.actors });
    delete e.reason;
    for (const id of b.actors) this.#host.set(id, b.node);
    if (!wasUp) this.#events.up(b.node, b.actors);
  }

  /** Node `node` (run `iid`) says it leaves. */
  left(node: string, iid: string, now = Date.now()): void {
    const e = this.#members.get(node);
    if (e && e.state === 'up' && e.iid === iid) this.#down(e, 'left', now);
  }

  /** Count every node silent for longer than the limit down. */
  sweep(now = Date.now()): void {
    for (const e of this.#members.values()) if (e.state === 'up' && now - e.lastSeen > this.#limitMs) this.#down(e, 'timeout', now);
  }

  /** Every node down at once (this node lost its connection). */
  allDown(reason: NodeDownReason, now = Date.now()): void {
    for (const e of this.#members.values()) if (e.state === 'up') this.#down(e, reason, now);
  }

  /** Where `id` is hosted among the other nodes, and whether that node is up; undefined when no other node ever said it hosts it. */
  where(id: string): { node: string; up: boolean; reason?: NodeDownReason } | undefined {
    const node = this.#host.get(id);
    if (node === undefined) return undefined;
    const e = this.#members.get(node)!;
    return e.state === 'up' ? { node, up: true } : { node, up: false, reason: e.reason ?? 'timeout' };
  }

  /** The actor ids node `node` hosts, as its latest heartbeat said. */
  actorsOf(node: string): string[] {
    return this.#members.get(node)?.actors ?? [];
  }

  /** The state of node `node` (not this one): undefined when never seen. */
  state(node: string): { up: boolean; reason?: NodeDownReason } | undefined {
    const e = this.#members.get(node);
    if (!e) return undefined;
    return e.state === 'up' ? { up: true } : { up: false, reason: e.reason ?? 'timeout' };
  }

  /** The names of the other nodes that are up. */
  upNodes(): string[] {
    return [...this.#members.values()].flatMap((e) => (e.state === 'up' ? [e.node] : []));
  }

  /** Up nodes hosting any of `ids`: [id, node] pairs. */
  conflicts(ids: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const id of ids) {
      const w = this.where(id);
      if (w?.up) out.push([id, w.node]);
    }
    return out;
  }

  list(selfActors: string[]): NodeInfo[] {
    const others = [...this.#members.values()].map((e) => ({ node: e.node, state: e.state, lastSeen: e.lastSeen, actors: [...e.actors], self: false, ...(e.reason ? { reason: e.reason } : {}) }));
    return [{ node: this.#self, state: 'up' as const, lastSeen: Date.now(), actors: selfActors, self: true }, ...others].sort((a, b) => (a.node < b.node ? -1 : 1));
  }

  #down(e: Entry, reason: NodeDownReason, now: number): void {
    e.state = 'down';
    e.reason = reason;
    e.lastSeen = Math.max(e.lastSeen, reason === 'timeout' ? e.lastSeen : now);
    this.#events.down(e.node, reason);
  }
}
