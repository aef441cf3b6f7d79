// Types only (erased from the build): the NATS client is loaded with import() when a node joins.
import type { NatsConnection } from '@nats-io/transport-node';
import { toWire } from '../actor/wire-error.js';
import { expectsReply, type Codec, type Envelope, type EnvelopeKind, type FrameHead, type Priority } from '../codec/envelope.js';
import { DecodeError, MessageTooLargeError, NoSuchActorError, NodeDownError, type NodeDownReason } from '../errors.js';
import type { DeadLetter } from '../events.js';
import type { Lane } from '../transport/protocol.js';
import { Inflow } from './inflow.js';
import { copyEnvelopeFrame, encodeEnvelopeFrame, FrameReader, nodeOfSystemId, systemAt } from './layout.js';
import type { Membership } from './membership.js';

/** The main thread's id on its own node (src/system/endpoint.ts's SYSTEM_ID). */
export const SELF = '$system';
/** How long a forwarded ask is remembered for its node going down (its own timeout settles it anyway), ms. */
const PENDING_TTL_MS = 10 * 60_000;

/** What the path between nodes needs of its node and system. */
export interface MailHooks {
  log: { warn(o: object, m: string): void };
  isLocal(id: string): boolean;
  /** A tell or ask from another node into a local actor's inbox (the main thread's send path). */
  send(env: Envelope): void;
  /** The same for a frame passed on as it came: `env` is its header (its payload read only for a dead letter). */
  sendFrame(env: Envelope, frame: Uint8Array, lane?: Lane): void;
  /** An answer from another node to an ask of this node's main thread or of a local actor. */
  answer(env: Envelope): void;
  settleAsk(asker: string, id: number, err: Error): void;
  deadLetter(letter: Omit<DeadLetter, 'at'>): void;
  /** A publish (tell) or request (ask) from another node, on its topic: to this node's own subscribers. */
  topic(env: Envelope): void;
  /** A proxy for another node's actor (or main thread) `id`, so an answer to it can go back. */
  proxy(id: string): void;
}

/**
 * The envelope of a frame passed on as it is: its header's fields, and its
 * payload decoded from the frame only if asked for (a message that cannot
 * be delivered, for its dead letter). A class, so that the getter is the
 * prototype's and a message costs one small object.
 */
class PassedEnvelope implements Envelope {
  readonly kind: EnvelopeKind;
  readonly from: string;
  readonly id: number;
  readonly priority: Priority;
  readonly topic: string | undefined;
  readonly trace: string | undefined;
  readonly #codec: Codec;
  readonly #frame: Uint8Array;
  #payload: unknown = undefined;
  #read = false;

  constructor(h: FrameHead, readonly to: string, codec: Codec, frame: Uint8Array) {
    this.kind = h.kind;
    this.from = h.from;
    this.id = h.id;
    this.priority = h.priority;
    this.topic = h.topic;
    this.trace = h.trace;
    this.#codec = codec;
    this.#frame = frame;
  }

  get payload(): unknown {
    if (!this.#read) {
      this.#read = true;
      try {
        this.#payload = this.#codec.decode(this.#frame, 0, this.#frame.length, this.to).payload;
      } catch {
        this.#payload = null;
      }
    }
    return this.#payload;
  }
}

/**
 * The path of a message between this node and the others: out of a proxy
 * (or straight from the main thread) onto the NATS subject of the node that
 * hosts the receiver, and in from this node's subject into the local inbox.
 * The codec's envelope is the wire form of both a ring and a frame between
 * nodes, so where the bytes allow it a message is passed on as it is, its
 * header read by hand (Codec.peek) and its payload left to the receiver's
 * inbox to decode: a proxy's rings carry self-contained frames (the
 * proxy's inbox is registered `plain`), and a frame from another node is
 * one. What needs the payload here — an answer or a topic message to this
 * node's main thread, a frame with a ring's records, a message from the
 * main thread itself (whose id changes on the way) — is decoded, bounded
 * and prototype-safe, and encoded again.
 */
export class Mail {
  readonly #node: string;
  readonly #codec: Codec;
  readonly #hooks: MailHooks;
  readonly #members: Membership;
  readonly #nc: () => NatsConnection | null;
  readonly #subject: (node: string) => string;
  /** The NATS server's max_payload, once connected. */
  maxPayload = 1024 * 1024;
  /** Forwarded asks: `${asker}\n${id}` → the node and actor asked. */
  readonly pending = new Map<string, { node: string; to: string; at: number }>();
  /** Remote senders seen in incoming mail (an asker's answers go back to its node). */
  readonly senders = new Map<string, string>();
  readonly #inflow: Inflow;
  readonly #frames = new FrameReader();

  constructor(node: string, codec: Codec, members: Membership, nc: () => NatsConnection | null, subject: (node: string) => string, hooks: MailHooks) {
    this.#node = node;
    this.#codec = codec;
    this.#members = members;
    this.#nc = nc;
    this.#subject = subject;
    this.#hooks = hooks;
    this.#inflow = new Inflow(
      (env, frame) => (frame ? hooks.sendFrame(env, frame) : hooks.send(env)),
      (env, node, err) => this.#refuse(env, node, err),
    );
  }

  /** An envelope (read from a proxy, or from this node's main thread): onto the NATS subject of the node hosting its receiver. */
  forward(env: Envelope): void {
    const route = this.#route(env.to, env.kind);
    if (route instanceof Error) return this.#fail(env, route);
    let bytes: Uint8Array;
    try {
      bytes = encodeEnvelopeFrame(this.#node, env.to, this.#codec, env.from === SELF ? { ...env, from: systemAt(this.#node) } : env);
    } catch (err) {
      return this.#fail(env, err as Error);
    }
    const err = this.#publish(route, env.to, env, bytes);
    if (err) this.#fail(env, err);
  }

  /** A frame read from the proxy of `to`: passed on as it is when it can be, else decoded and forwarded. Never throws. */
  forwardFrame(to: string, bytes: Uint8Array, offset: number, length: number): void {
    let h: FrameHead | null = null;
    try {
      h = this.#codec.peek(bytes, offset, length);
    } catch {
      // not an envelope's header: the decode below says why
    }
    if (h === null || h.records || h.from === SELF) {
      let env: Envelope;
      try {
        env = this.#codec.decode(bytes, offset, length, to);
      } catch (err) {
        return this.#undecodable(to, err as Error, bytes, offset, length);
      }
      return this.forward(env);
    }
    const route = this.#route(to, h.kind);
    const decoded = (): Envelope => new PassedEnvelope(h, to, this.#codec, Uint8Array.prototype.slice.call(bytes, offset, offset + length));
    if (route instanceof Error) return this.#fail(decoded(), route);
    const err = this.#publish(route, to, h, copyEnvelopeFrame(this.#node, to, bytes, offset, length));
    if (err) this.#fail(decoded(), err);
  }

  /** A frame on this node's subject: put where it goes, passed on as it is into a local actor's inbox. */
  incoming(bytes: Uint8Array): void {
    let f: { node: string; to: string; offset: number };
    let h: FrameHead;
    const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      if (data.length > this.#codec.maxMessageBytes + 64 * 1024 + 258) throw new DecodeError(`cluster frame of ${data.length} bytes is larger than maxMessageBytes allows`);
      f = this.#frames.read(data);
      h = this.#codec.peek(data, f.offset, data.length - f.offset);
    } catch (err) {
      this.#hooks.log.warn({ err }, 'cluster: a frame that cannot be decoded was dropped');
      return;
    }
    const node = f.node;
    const to = nodeOfSystemId(f.to) === this.#node ? SELF : f.to;
    if (to === SELF || h.records) return this.#decoded(data, f.offset, to, node);
    const frame = data.subarray(f.offset);
    const env = new PassedEnvelope(h, to, this.#codec, frame);
    if (h.kind === 'reply' || h.kind === 'error') {
      this.pending.delete(`${to}\n${h.id}`);
      try {
        return this.#hooks.sendFrame(env, frame, 'reply');
      } catch {
        return this.#decoded(data, f.offset, to, node); // one that can never go (too large for the ring): answered with the reason
      }
    }
    this.#mail(env, node, frame);
  }

  /** Node `node` is down: every ask forwarded there settles with NodeDownError. */
  down(node: string, reason: NodeDownReason): void {
    for (const [k, p] of this.pending) {
      if (p.node !== node) continue;
      this.pending.delete(k);
      const cut = k.indexOf('\n');
      this.#hooks.settleAsk(k.slice(0, cut), Number(k.slice(cut + 1)), new NodeDownError(p.to, node, reason));
    }
  }

  /** Forget forwarded asks older than PENDING_TTL_MS. */
  sweep(now: number): void {
    for (const [k, p] of this.pending) if (now - p.at > PENDING_TTL_MS) this.pending.delete(k);
  }

  /** The frame decoded, for what needs its payload here: answers and topic messages to the main thread, frames with records. */
  #decoded(data: Buffer, offset: number, to: string, node: string): void {
    let env: Envelope;
    try {
      env = this.#codec.decode(data, offset, data.length - offset, to);
    } catch (err) {
      this.#hooks.log.warn({ err }, 'cluster: a frame that cannot be decoded was dropped');
      return;
    }
    if (env.kind === 'reply' || env.kind === 'error') {
      this.pending.delete(`${env.to}\n${env.id}`);
      return this.#hooks.answer(env);
    }
    if (env.to === SELF && env.topic !== undefined) {
      this.senders.set(env.from, node);
      this.#hooks.proxy(env.from);
      return this.#hooks.topic(env);
    }
    this.#mail(env, node, null);
  }

  /** A tell or ask from node `node`: into the local inbox of `env.to` with the rest of this turn's. */
  #mail(env: Envelope, node: string, frame: Uint8Array | null): void {
    if (env.to === SELF || !this.#hooks.isLocal(env.to)) return this.#refuse(env, node, new NoSuchActorError(env.to, `cluster: message from node '${node}'`));
    if (!this.senders.has(env.from)) this.senders.set(env.from, node);
    this.#hooks.proxy(env.from);
    this.#inflow.push(env, node, frame);
  }

  /** The node a message of `kind` to `to` goes to and the connection, or the error that stops it. */
  #route(to: string, kind: EnvelopeKind): { target: string; nc: NatsConnection } | Error {
    const target = nodeOfSystemId(to) ?? this.#members.where(to)?.node ?? this.senders.get(to);
    if (target === undefined) return new NoSuchActorError(to, 'cluster: send');
    const state = this.#members.state(target);
    // An answer goes out even to a node this one counts down: its asker waits for it, and a node that asked is alive (its heartbeat may just be late).
    const answer = kind === 'reply' || kind === 'error';
    if (!state?.up && !answer) return new NodeDownError(to, target, state?.reason ?? 'timeout');
    const nc = this.#nc();
    if (!nc || nc.isClosed()) return new NodeDownError(to, target, 'disconnected');
    return { target, nc };
  }

  /** Publish frame `bytes` of a message (header `h`) to `to` on its route; the error that stopped it, or null. */
  #publish(route: { target: string; nc: NatsConnection }, to: string, h: { kind: EnvelopeKind; from: string; id: number }, bytes: Uint8Array): Error | null {
    if (bytes.length > this.maxPayload) {
      return new MessageTooLargeError(bytes.length, this.maxPayload, `cluster: message to '${to}' on node '${route.target}' (the NATS server's max_payload)`);
    }
    const asks = expectsReply(h.kind);
    if (asks) this.pending.set(`${h.from}\n${h.id}`, { node: route.target, to, at: Date.now() });
    try {
      route.nc.publish(this.#subject(route.target), bytes);
    } catch (err) {
      if (asks) this.pending.delete(`${h.from}\n${h.id}`);
      return err as Error;
    }
    return null;
  }

  #fail(env: Envelope, err: Error): void {
    if (expectsReply(env.kind)) this.#hooks.settleAsk(env.from, env.id, err);
    this.#hooks.deadLetter({ kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, reason: err.message });
  }

  /** A proxy's frame that is not an envelope: dead-lettered, and its ask (when its header can be read) settled with the error. */
  #undecodable(to: string, err: Error, bytes: Uint8Array, offset: number, length: number): void {
    const { header } = this.#codec.recover(bytes, offset, length);
    this.#hooks.deadLetter({ kind: header?.kind ?? 'tell', from: header?.from ?? '?', to, id: header?.id ?? 0, payload: null, reason: err.message });
    if (header && expectsReply(header.kind)) this.#hooks.settleAsk(header.from, header.id, err);
  }

  /** A message this node cannot take: dead-lettered, and an ask answered with the error at once. */
  #refuse(env: Envelope, node: string, err: Error): void {
    this.#hooks.deadLetter({ kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, reason: err.message });
    const nc = this.#nc();
    if (!expectsReply(env.kind) || !nc || nc.isClosed()) return;
    try {
      const answer: Envelope = { kind: 'error', from: env.to, to: env.from, id: env.id, payload: toWire(err) };
      nc.publish(this.#subject(node), encodeEnvelopeFrame(this.#node, env.from, this.#codec, answer));
    } catch (e) {
      this.#hooks.log.warn({ err: e, node }, 'cluster: an error answer could not be sent');
    }
  }
}
