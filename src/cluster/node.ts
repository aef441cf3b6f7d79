// Types only (erased from the build): the NATS client is loaded with import() when a node joins.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { toWire } from '../actor/wire-error.js';
import { expectsReply, type Codec, type Envelope } from '../codec/envelope.js';
import { ClusterJoinError, DecodeError, InvalidOptionError, MessageTooLargeError, NoSuchActorError, NodeDownError, type NodeDownReason } from '../errors.js';
import type { DeadLetter } from '../events.js';
import { connectNats } from '../persistence/nats-connection.js';
import type { Wiring } from '../transport/wiring.js';
import { decodeBeat, encodeBeat, encodeEnvelopeFrame, nodeOfSystemId, readFrame, subjects, systemAt, type Subjects } from './layout.js';
import { Membership, type NodeInfo } from './membership.js';
import type { ClusterConfig } from './options.js';
import { Claims } from './claims.js';
import { Inflow } from './inflow.js';
import { Proxies } from './proxies.js';
import { askWho, bounded, forgetNode, spawnConflict, spawnLost } from './rules.js';
import { ClusterWatches, type WatchHooks } from './watches.js';

/** The main thread's id on its own node (src/system/endpoint.ts's SYSTEM_ID). */
const SELF = '$system';
/** How long a forwarded ask is remembered for its node going down (its own timeout settles it anyway), ms. */
const PENDING_TTL_MS = 10 * 60_000;
/** Longest a stop waits for NATS (the goodbye's flush, the drain): a server that is gone must not hold the stop, ms. */
const STOP_WAIT_MS = 2000;

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };

/** What a node needs of the system it belongs to. */
export interface ClusterHooks {
  log: Log;
  emit(e: { type: 'node-up'; node: string } | { type: 'node-down'; node: string; reason: NodeDownReason }): void;
  /** The actor ids this node hosts now. */
  localIds(): string[];
  isLocal(id: string): boolean;
  /** A tell or ask from another node into a local actor's inbox (the main thread's send path). */
  send(env: Envelope): void;
  /** An answer from another node to an ask of this node's main thread or of a local actor. */
  answer(env: Envelope): void;
  settleAsk(asker: string, id: number, err: Error): void;
  deadLetter(letter: Omit<DeadLetter, 'at'>): void;
  /** The topic patterns of this node's own subscribers. */
  localPatterns(): string[];
  /** Subscribe `subscriber` (another node's `$system@<node>`) to exactly `patterns` in this node's table. */
  remotePatterns(subscriber: string, patterns: readonly string[]): void;
  /** A publish (tell) or request (ask) from another node, on its topic: to this node's own subscribers. */
  topic(env: Envelope): void;
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
  readonly #codec: Codec;
  readonly #hooks: ClusterHooks;
  readonly #iid = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  readonly #members: Membership;
  readonly #proxies: Proxies;
  /** Watches across nodes: the `w` subjects (watches.ts). */
  readonly watches: ClusterWatches;
  /** Forwarded asks: `${asker}\n${id}` → the node and actor asked. */
  readonly #pending = new Map<string, { node: string; to: string; at: number }>();
  /** Remote senders seen in incoming mail (an asker's answers go back to its node). */
  readonly #senders = new Map<string, string>();
  readonly #warned = new Set<string>();
  readonly #inflow = new Inflow((env) => this.#hooks.send(env), (env, node, err) => this.#refuse(env, node, err));
  #nc: NatsConnection | null = null;
  #claims: Claims | null = null;
  #subs: Subscription[] = [];
  #timer: NodeJS.Timeout | null = null;
  #maxPayload = 1024 * 1024;
  #leaving = false;
  #joined = false;

  constructor(c: ClusterConfig, system: string, deps: { wiring: Wiring; codec: Codec; senderSlots: number }, hooks: ClusterHooks) {
    this.node = c.node;
    this.#c = c;
    this.#system = system;
    this.#s = subjects(system);
    this.#codec = deps.codec;
    this.#hooks = hooks;
    this.#members = new Membership(c.node, c.heartbeatMs * c.misses, {
      up: (node) => {
        hooks.log.info({ node }, 'cluster node up');
        hooks.emit({ type: 'node-up', node });
      },
      down: (node, reason) => this.#down(node, reason),
    });
    this.watches = new ClusterWatches(c.node, this.#s.watch, () => this.#nc, hooks.watches, hooks.log);
    this.#proxies = new Proxies(deps.wiring, deps.codec, deps.senderSlots, (env) => this.#forward(env), (to, err, header) => {
      hooks.deadLetter({ kind: header?.kind ?? 'tell', from: header?.from ?? '?', to, id: header?.id ?? 0, payload: null, reason: err.message });
      if (header && expectsReply(header.kind)) hooks.settleAsk(header.from, header.id, err);
    });
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
    this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
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
    on(this.#s.mail(this.node), (m) => this.#incoming(m.data));
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
    this.#forward(env);
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
    this.#pending.clear();
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
    for (const [k, p] of this.#pending) if (now - p.at > PENDING_TTL_MS) this.#pending.delete(k);
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
    for (const [k, p] of this.#pending) {
      if (p.node !== node) continue;
      this.#pending.delete(k);
      const cut = k.indexOf('\n');
      this.#hooks.settleAsk(k.slice(0, cut), Number(k.slice(cut + 1)), new NodeDownError(p.to, node, reason));
    }
    if (reason === 'left') forgetNode(node, this.#members, this.#proxies, this.#senders);
    this.#hooks.emit({ type: 'node-down', node, reason });
  }

  /** An envelope read from a proxy: onto the NATS subject of the node hosting its receiver. */
  #forward(env: Envelope): void {
    const target = nodeOfSystemId(env.to) ?? this.#members.where(env.to)?.node ?? this.#senders.get(env.to);
    if (target === undefined) return this.#fail(env, new NoSuchActorError(env.to, 'cluster: send'));
    const state = this.#members.state(target);
    // An answer goes out even to a node this one counts down: its asker waits for it, and a node that asked is alive (its heartbeat may just be late).
    const answer = env.kind === 'reply' || env.kind === 'error';
    if (!state?.up && !answer) return this.#fail(env, new NodeDownError(env.to, target, state?.reason ?? 'timeout'));
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return this.#fail(env, new NodeDownError(env.to, target, 'disconnected'));
    let bytes: Uint8Array;
    try {
      bytes = encodeEnvelopeFrame(this.node, env.to, this.#codec, env.from === SELF ? { ...env, from: systemAt(this.node) } : env);
    } catch (err) {
      return this.#fail(env, err as Error);
    }
    if (bytes.length > this.#maxPayload) {
      return this.#fail(env, new MessageTooLargeError(bytes.length, this.#maxPayload, `cluster: message to '${env.to}' on node '${target}' (the NATS server's max_payload)`));
    }
    if (expectsReply(env.kind)) this.#pending.set(`${env.from}\n${env.id}`, { node: target, to: env.to, at: Date.now() });
    nc.publish(this.#s.mail(target), bytes);
  }

  #fail(env: Envelope, err: Error): void {
    if (expectsReply(env.kind)) this.#hooks.settleAsk(env.from, env.id, err);
    this.#hooks.deadLetter({ kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, reason: err.message });
  }

  /** A frame on this node's subject: decoded as a ring's frame is, and put where it goes. */
  #incoming(data: Uint8Array): void {
    let env: Envelope;
    let node: string;
    try {
      if (data.length > this.#codec.maxMessageBytes + 64 * 1024 + 258) throw new DecodeError(`cluster frame of ${data.length} bytes is larger than maxMessageBytes allows`);
      const f = readFrame(data);
      node = f.node;
      env = this.#codec.decode(data, f.offset, data.length - f.offset, nodeOfSystemId(f.to) === this.node ? SELF : f.to);
    } catch (err) {
      this.#hooks.log.warn({ err }, 'cluster: a frame that cannot be decoded was dropped');
      return;
    }
    if (env.kind === 'reply' || env.kind === 'error') {
      this.#pending.delete(`${env.to}\n${env.id}`);
      this.#hooks.answer(env);
      return;
    }
    if (env.to === SELF && env.topic !== undefined) {
      this.#senders.set(env.from, node);
      this.#proxies.ensure(env.from);
      return this.#hooks.topic(env);
    }
    if (env.to === SELF || !this.#hooks.isLocal(env.to)) return this.#refuse(env, node, new NoSuchActorError(env.to, `cluster: message from node '${node}'`));
    if (!this.#senders.has(env.from)) this.#senders.set(env.from, node);
    this.#proxies.ensure(env.from);
    this.#inflow.push(env, node);
  }

  /** A message this node cannot take: dead-lettered, and an ask answered with the error at once. */
  #refuse(env: Envelope, node: string, err: Error): void {
    this.#hooks.deadLetter({ kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, reason: err.message });
    const nc = this.#nc;
    if (!expectsReply(env.kind) || !nc || nc.isClosed()) return;
    try {
      const answer: Envelope = { kind: 'error', from: env.to, to: env.from, id: env.id, payload: toWire(err) };
      nc.publish(this.#s.mail(node), encodeEnvelopeFrame(this.node, env.from, this.#codec, answer));
    } catch (e) {
      this.#hooks.log.warn({ err: e, node }, 'cluster: an error answer could not be sent');
    }
  }
}
