import { AskTable } from '../actor/asks.js';
import type { AskOptions, TellOptions } from '../actor/define.js';
import { errorEnvelope, replyEnvelope, sendAnswer, type Question } from '../actor/reply.js';
import { makeProxy, type Remote } from '../actor/rpc.js';
import { Sender } from '../actor/sender.js';
import { fromWire, type WireError } from '../actor/wire-error.js';
import type { SubjectTrie } from '../bus/trie.js';
import { expectsReply, type Codec, type Envelope, type EnvelopeHeader, type EnvelopeKind } from '../codec/envelope.js';
import { DecodeError, NoRespondersError } from '../errors.js';
import { MSGS_SENT, PUBLISHED, UNROUTED } from '../liveness/liveness.js';
import { guarded } from '../transport/breaker.js';
import type { Endpoint } from '../transport/endpoint.js';
import { laneOf } from '../transport/protocol.js';

export interface OutgoingOptions {
  /** This actor's id: the `from` of everything it sends. */
  self: string;
  endpoint: Endpoint;
  codec: Codec;
  /** This thread's copy of the system's topic subscriptions. */
  bus: SubjectTrie<string>;
  /** The liveness block's Int32 view (messages sent, published, unrouted): this thread is their only writer, so plain stores. */
  counters: Int32Array;
  /** Timeout of an ask, request or proxy call that names none, ms. */
  askTimeoutMs: number;
  sendTimeoutMs: number;
  /** A message that could not be delivered (after its own ask, if any, was failed with `err`). */
  deadLetter: (env: Envelope, err: Error) => void;
}

/**
 * What one actor sends, and the asks it has out: tells, asks (through the
 * receiver's shared breaker when it has one), publishes and requests over
 * topics, typed-proxy calls, and the answers to the asks it handles.
 */
export class Outgoing {
  readonly sender: Sender;
  readonly asks = new AskTable();
  readonly #self: string;
  readonly #endpoint: Endpoint;
  readonly #bus: SubjectTrie<string>;
  readonly #i32: Int32Array;
  readonly #askTimeoutMs: number;
  readonly #deadLetter: OutgoingOptions['deadLetter'];

  constructor(o: OutgoingOptions) {
    this.#self = o.self;
    this.#endpoint = o.endpoint;
    this.#bus = o.bus;
    this.#i32 = o.counters;
    this.#askTimeoutMs = o.askTimeoutMs;
    this.#deadLetter = o.deadLetter;
    this.sender = new Sender(o.endpoint, o.codec, (env, err) => this.#undeliverable(env, err), o.sendTimeoutMs);
  }

  tell(to: string, msg: unknown, options?: TellOptions): void {
    this.#i32[MSGS_SENT]!++;
    this.sender.send({ kind: 'tell', from: this.#self, to, id: 0, payload: msg, priority: options?.priority });
  }

  ask<R>(to: string, msg: unknown, options: AskOptions, topic: string | undefined, kind: EnvelopeKind = 'ask'): Promise<R> {
    const breaker = this.#endpoint.outboxIfReady(to, laneOf(options.priority))?.breaker;
    if (breaker?.enabled) return guarded(breaker, to, () => this.#askUnguarded<R>(to, msg, options, topic, kind));
    return this.#askUnguarded<R>(to, msg, options, topic, kind);
  }

  proxy<T>(to: string, options: AskOptions): Remote<T> {
    return makeProxy<T>((m) => this.ask(to, m, options, undefined, 'call'));
  }

  /** Encoded once, and the same bytes copied into each subscriber's ring (only `to` differs, and it is not on the wire). */
  publish(subject: string, msg: unknown, options?: TellOptions): number {
    const to = this.#bus.match(subject, 'ctx.publish');
    const i32 = this.#i32;
    if (to.size === 0) {
      i32[UNROUTED]!++;
      return 0;
    }
    i32[PUBLISHED]!++;
    i32[MSGS_SENT]! += to.size;
    // One subscriber refusing (a `fail` mailbox, dead-lettered already) does not starve the rest.
    // `to` is each subscriber in turn; the subject stands in for it where an error names the message.
    this.sender.sendToEach({ kind: 'tell', from: this.#self, to: subject, id: 0, payload: msg, topic: subject, priority: options?.priority }, to);
    return to.size;
  }

  /** Ask every subscriber of `subject` but this actor; the first answer wins, the first error when all fail. */
  request<R>(subject: string, msg: unknown, options: AskOptions): Promise<R> {
    const to = [...this.#bus.match(subject, 'ctx.request')].filter((id) => id !== this.#self);
    if (to.length === 0) return Promise.reject(new NoRespondersError(subject));
    return Promise.any(to.map((id) => this.ask<R>(id, msg, options, subject))).catch((err: unknown) => {
      throw err instanceof AggregateError ? err.errors[0] : err;
    });
  }

  /** Answer the ask (or call) `to` with `value`. */
  answer(to: Question, value: unknown): void {
    this.#i32[MSGS_SENT]!++;
    sendAnswer(this.sender, replyEnvelope(to, this.#self, value));
  }

  /**
   * A frame that reached this actor and could not be decoded: its asker is
   * answered with the DecodeError at once, or the ask of this actor it
   * answered fails with it, instead of either waiting out a timeout.
   */
  undecodable(header: EnvelopeHeader, err: DecodeError): void {
    if (expectsReply(header.kind)) sendAnswer(this.sender, errorEnvelope(header, this.#self, err));
    else if (header.kind === 'reply' || header.kind === 'error') this.asks.reject(header.id, err);
  }

  /** A reply or error from the reply lane settles one of this actor's asks. */
  settle(env: Envelope): void {
    if (env.kind === 'reply') this.asks.resolve(env.id, env.payload, env.from);
    else if (env.kind === 'error') this.asks.reject(env.id, fromWire(env.payload as WireError));
  }

  #askUnguarded<R>(to: string, msg: unknown, options: AskOptions, topic: string | undefined, kind: EnvelopeKind): Promise<R> {
    const { id, promise } = this.asks.open<R>(to, options.timeout ?? this.#askTimeoutMs);
    try {
      this.#i32[MSGS_SENT]!++;
      this.sender.send({ kind, from: this.#self, to, id, payload: msg, priority: options.priority, topic });
    } catch (err) {
      this.asks.reject(id, err as Error);
    }
    return promise;
  }

  #undeliverable(env: Envelope, err: Error): void {
    if (expectsReply(env.kind) && env.from === this.#self) this.asks.reject(env.id, err);
    this.#deadLetter(env, err);
  }
}
