// Types only (erased from the build): the NATS client is loaded with import() when a node joins.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Codec, Envelope } from '../codec/envelope.js';
import { ClusterJoinError, InvalidOptionError, type NodeDownReason } from '../errors.js';
import { connectNats } from '../persistence/nats-connection.js';
import type { Wiring } from '../transport/wiring.js';
import { decodeBeat, encodeBeat, nodeOfSystemId, subjects, systemAt, type Subjects } from './layout.js';
import { Mail, type MailHooks } from './mail.js';
import { Membership, type NodeInfo } from './membership.js';
import type { ClusterConfig } from './options.js';
import { Claims } from './claims.js';
import { Proxies } from './proxies.js';
import { askWho, bounded, forgetNode, spawnConflict, spawnLost } from './rules.js';
import { ClusterWatches, type WatchHooks } from './watches.js';

/** Longest a stop waits for NATS (the goodbye's flush, the drain): a server that is gone must not hold the stop, ms. */
const STOP_WAIT_MS = 2000;

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };

/** What a node needs of the system it belongs to: what the path between nodes needs (mail.ts, but its proxies), and more. */
export interface ClusterHooks extends Omit<MailHooks, 'proxy' | 'log'> {
  log: Log;
  emit(e: { type: 'node-up'; node: string } | { type: 'node-down'; node: string; reason: NodeDownReason }): void;
  /** The actor ids this node hosts now. */
  localIds(): string[];
  /** The topic patterns of this node's own subscribers. */
  localPatterns(): string[];
  /** Subscribe `subscriber` (another node's `$system@<node>`) to exactly `patterns` in this node's table. */
  remotePatterns(subscriber: string, patterns: readonly string[]): void;
  /** Watch messages from other nodes (watches.ts). */
  watches: WatchHooks;
}

/**
 * This system as one node of a cluster on NATS: its heartbeat and the
 * membership it reads from the others', the proxies that stand for remote
 * actors on this thread, and the path of a message between nodes — out of a
 * proxy onto the receiving node's subject, in from this node's subject into
 * the local inbox. Runs on the main thread.
 */
export class ClusterNode {
  readonly node: string;
  readonly #c: ClusterConfig;
  readonly #system: string;
  readonly #s: Subjects;
  readonly #hooks: ClusterHooks;
  readonly #iid = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  readonly #members: Membership;
  readonly #proxies: Proxies;
  /** Watches across nodes: the `w` subjects (watches.ts). */
  readonly watches: ClusterWatches;
  /** The path of a message between nodes (mail.ts). */
  readonly #mail: Mail;
  readonly #warned = new Set<string>();
  #nc: NatsConnection | null = null;
  #claims: Claims | null = null;
  #subs: Subscription[] = [];
  #timer: NodeJS.Timeout | null = null;
  #leaving = false;
  #joined = false;

  constructor(c: ClusterConfig, system: string, deps: { wiring: Wiring; codec: Codec; senderSlots: number }, hooks: ClusterHooks) {
    this.node = c.node;
    this.#c = c;
    this.#system = system;
    this.#s = subjects(system);
    this.#hooks = hooks;
    this.#members = new Membership(c.node, c.heartbeatMs * c.misses, {
      up: (node) => {
        hooks.log.info({ node }, 'cluster node up');
        hooks.emit({ type: 'node-up', node });
      },
      down: (node, reason) => this.#down(node, reason),
    });
    this.watches = new ClusterWatches(c.node, this.#s.watch, () => this.#nc, hooks.watches, hooks.log);
    this.#mail = new Mail(c.node, deps.codec, this.#members, () => this.#nc, (n) => this.#s.mail(n), { ...hooks, proxy: (id) => this.#proxies.ensure(id) });
    this.#proxies = new Proxies(deps.wiring, deps.codec, deps.senderSlots, (to, bytes, offset, length) => this.#mail.forwardFrame(to, bytes, offset, length));
  }

  /**
   * Connect, make sure no live node has this name, learn the members (and
   * refuse an actor id another node hosts already), then start the heartbeat.
   */
  async join(ids: readonly string[]): Promise<void> {
    const where = this.#c.servers.join(', ');
    const { nc } = await connectNats(this.#c, `ringmaster ${this.#system}/${this.node}`, 'the cluster').catch((err: unknown) => {
      throw new ClusterJoinError(this.node, this.#c.servers, (err as Error).message, { cause: err });
    });
    this.#nc = nc;
    this.#mail.maxPayload = nc.info?.max_payload ?? this.#mail.maxPayload;
    const claims = (this.#claims = new Claims(nc, this.#s.claim, this.node, this.#iid, ids, () => this.#hooks.localIds(), () => this.#members.upNodes()));
    await claims.claim();
    const taken = await nc.request(this.#s.ping(this.node), undefined, { timeout: Math.min(this.#c.connectTimeoutMs, 2000) }).then(
      (m) => m.string() || null, // an empty answer: a node still joining (the claims decide between the two)
      () => null, // no responders (or no answer): the name is free
    );
    if (taken !== null) {
      throw new InvalidOptionError('cluster.node', `'${this.node}' is taken: a live node of system '${this.#system}' on ${where} answers as it; node names are unique in a cluster (a crashed node's name is free once the NATS server has dropped its connection)`);
    }
    const on = (subject: string, fn: (m: Msg) => void): void => {
      this.#subs.push(nc.subscribe(subject, { callback: (err, m) => (err ? this.#hooks.log.warn({ err, subject }, 'cluster subscription failed') : fn(m)) }));
    };
    on(this.#s.mail(this.node), (m) => this.#mail.incoming(m.data));
    on(this.#s.hb, (m) => this.#beat(m.data));
    on(this.#s.bye, (m) => {
      const b = decodeBeat(m.data);
      if (b) this.#members.left(b.node, b.iid);
    });
    on(this.#s.ping(this.node), (m) => m.respond(this.#joined ? this.#iid : ''));
    on(this.#s.watch(this.node), (m) => this.watches.incoming(m.data));
    await askWho(nc, this.#s.who, this.#c.heartbeatMs, (data) => this.#beat(data));
    const conflicts = this.#members.conflicts(ids);
    if (conflicts.length > 0) {
      const list = conflicts.map(([id, n]) => `'${id}' (on node '${n}')`).join(', ');
      throw new InvalidOptionError('tree', `hosts actor ids another node of cluster '${this.#system}' hosts already: ${list}; actor ids are unique across a cluster`);
    }
    const refused = await claims.verdict(this.#system);
    if (refused) throw refused;
    on(this.#s.who, (m) => m.respond(this.#beatBytes()));
    this.#publishBeat();
    this.#timer = setInterval(() => this.#tick(), this.#c.heartbeatMs);
    this.#timer.unref();
    this.#joined = true;
    nc.closed().then((err) => {
      if (this.#leaving) return;
      this.#hooks.log.error({ err }, 'cluster connection closed for good');
      this.#members.allDown('disconnected');
    }, () => {});
    this.#hooks.log.info({ node: this.node, servers: where }, 'cluster node joined');
  }

  /** The members now, this node among them. */
  nodes(): NodeInfo[] {
    return this.#members.list(this.#hooks.localIds());
  }

  /** Where actor `id` is: this node's name when local, another's when it hosts it, undefined when none does. */
  where(id: string): string | undefined {
    if (this.#hooks.isLocal(id)) return this.node;
    return nodeOfSystemId(id) ?? this.#members.where(id)?.node;
  }

  /** The other node that hosts actor `id`, and whether it is up; undefined when none is known to. */
  hostOf(id: string): { node: string; up: boolean; reason?: NodeDownReason } | undefined {
    return this.#members.where(id);
  }

  /** Is `id` an actor (or main thread) of another node that this node can send to? */
  hosts(id: string): boolean {
    return this.#proxies.has(id);
  }

  /** Mail from this node's main thread to an actor (or main thread) of another node, straight onto NATS; false when no other node is known to host `env.to`. */
  sendDirect(env: Envelope): boolean {
    if (!this.#proxies.has(env.to) || this.#hooks.isLocal(env.to)) return false;
    this.#mail.forward(env);
    return true;
  }

  /** Throws the ActorIdTakenError that refuses a spawn of `id` here when another node is known to host it (see rules.ts). */
  checkSpawn(id: string): void {
    const refused = spawnConflict(this.#members, this.#system, id);
    if (refused) throw refused;
  }

  /** Claim `id` (registered here, not started) for a spawn on this node: rejects with ActorIdTakenError when another node's claim or objection wins. */
  async claimSpawn(id: string): Promise<void> {
    const by = this.#claims ? await this.#claims.spawn(id) : null;
    if (by) throw spawnLost(this.#system, id, by);
  }

  /** A clean stop, first step: say so (the others count this node down at once), stop the heartbeat. */
  async leave(): Promise<void> {
    if (this.#leaving) return;
    this.#leaving = true;
    clearInterval(this.#timer ?? undefined);
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    nc.publish(this.#s.bye, this.#beatBytes());
    await bounded(nc.flush(), STOP_WAIT_MS);
  }

  /** Last step, once the actors have stopped: the proxies' pumps and the connection. */
  async close(): Promise<void> {
    await this.leave();
    this.#claims?.close();
    await this.#proxies.close();
    this.#mail.pending.clear();
    const nc = this.#nc;
    this.#nc = null;
    if (nc && !nc.isClosed()) await bounded(nc.drain(), STOP_WAIT_MS);
    if (nc && !nc.isClosed()) await nc.close().catch(() => {});
  }

  #beatBytes(): Uint8Array {
    const actors = this.#hooks.localIds().filter((id) => !this.#claims?.claiming(id)); // an id still claimed may go to another node
    return encodeBeat({ node: this.node, iid: this.#iid, actors, topics: this.#hooks.localPatterns() });
  }

  #publishBeat(): void {
    const nc = this.#nc;
    if (nc && !nc.isClosed() && !this.#leaving) nc.publish(this.#s.hb, this.#beatBytes());
  }

  #tick(): void {
    this.#publishBeat();
    const now = Date.now();
    this.#members.sweep(now);
    this.#mail.sweep(now);
  }

  #beat(data: Uint8Array): void {
    const b = decodeBeat(data);
    if (!b) return;
    if (b.node === this.node) {
      if (b.iid !== this.#iid && !this.#warned.has(b.iid)) {
        this.#warned.add(b.iid);
        this.#hooks.log.error({ node: b.node }, 'another live node of this cluster has this node\'s name (they started at the same time?)');
      }
      return;
    }
    this.#members.beat(b);
    this.#proxies.ensure(systemAt(b.node));
    this.#hooks.remotePatterns(systemAt(b.node), b.topics);
    for (const id of b.actors) {
      if (!this.#hooks.isLocal(id)) this.#proxies.ensure(id);
      else if (this.#joined && !this.#claims?.claiming(id) && !this.#warned.has(`${id}\n${b.node}`)) {
        this.#warned.add(`${id}\n${b.node}`);
        this.#hooks.log.error({ actor: id, node: b.node }, 'an actor id of this node is hosted by another node too: messages to it stay on this node');
      }
    }
  }

  #down(node: string, reason: NodeDownReason): void {
    this.#hooks.log.warn({ node, reason }, 'cluster node down');
    this.#hooks.remotePatterns(systemAt(node), []);
    this.#mail.down(node, reason);
    if (reason === 'left') forgetNode(node, this.#members, this.#proxies, this.#mail.senders);
    this.#hooks.emit({ type: 'node-down', node, reason });
  }
}
