import type { Logger } from 'pino';
import type { AskOptions, TellOptions } from '../actor/define.js';
import { SubscriptionTable, type Subscription, type SubscriptionChange } from '../bus/registry.js';
import { validatePattern } from '../bus/subject.js';
import { SubjectTrie } from '../bus/trie.js';
import type { Envelope } from '../codec/envelope.js';
import { InvalidOptionError, NoRespondersError } from '../errors.js';
import type { ChildCell } from '../cell/contract.js';
import { SYSTEM_ID, type MainEndpoint } from './endpoint.js';

/** A main-thread subscriber: gets the message and its subject; for a request, what it returns is the answer. */
export type TopicHandler<T = unknown> = (msg: T, subject: string) => unknown;

/** What the topics need from the system around them. */
export interface TopicsPort {
  /** The main thread's own id on the data plane. */
  self: string;
  /** Tell each of `targets` the message `env` published on its topic (from the main thread), encoded once. */
  sendToEach(env: Envelope, targets: Iterable<string>): void;
  ask<R>(to: string, msg: unknown, options: AskOptions, topic: string): Promise<R>;
  /** Every live worker gets the change (their copies of the table). */
  broadcast(change: SubscriptionChange): void;
  /** Answer an ask that came to the main thread (a request to one of its subscriptions). */
  reply(to: Envelope, value: unknown, error?: Error): void;
  onError(err: unknown, subject: string): void;
}

/**
 * Publish/subscribe on the main thread's side: the subscription table every
 * worker copies, the main thread's own subscriptions (handlers), and publish
 * and request from here. Publishes from actors never come through here.
 */
export class Topics {
  readonly table: SubscriptionTable;
  readonly #port: TopicsPort;
  readonly #handlers = new SubjectTrie<TopicHandler>();
  /** Publishes from the main thread that reached a subscriber / reached none. */
  published = 0;
  unrouted = 0;

  constructor(port: TopicsPort) {
    this.#port = port;
    this.table = new SubscriptionTable((change) => port.broadcast(change));
  }

  list(): Subscription[] {
    return this.table.list();
  }

  /** Main-thread subscription; returns the function that ends it. */
  subscribe<T>(pattern: string, handler: TopicHandler<T>): () => void {
    validatePattern(pattern, 'system.subscribe');
    if (typeof handler !== 'function') throw new InvalidOptionError('system.subscribe(pattern, handler): handler', 'must be a function');
    const h = handler as TopicHandler;
    this.#handlers.add(pattern, h);
    this.table.subscribe(this.#port.self, pattern, 'system.subscribe');
    return () => {
      this.#handlers.remove(pattern, h);
      // The table holds one entry per pattern for the whole main thread: drop it with the last handler.
      if (!this.#handlers.entries().some(([p]) => p === pattern)) this.table.unsubscribe(this.#port.self, pattern);
    };
  }

  publish(subject: string, msg: unknown, options?: TellOptions): number {
    const to = this.table.match(subject, 'system.publish');
    if (to.size === 0) {
      this.unrouted++;
      return 0;
    }
    this.published++;
    const self = this.#port.self;
    let targets: Iterable<string> = to;
    if (to.has(self)) {
      this.#deliverLocal(subject, msg);
      targets = [...to].filter((id) => id !== self);
    }
    // A subscriber whose mailbox refuses it is dead-lettered; the others still get it.
    // `to` is each subscriber in turn; the subject stands in for it where an error names the message.
    this.#port.sendToEach({ kind: 'tell', from: self, to: subject, id: 0, payload: msg, topic: subject, priority: options?.priority }, targets);
    return to.size;
  }

  request<R>(subject: string, msg: unknown, options: AskOptions = {}): Promise<R> {
    const to = [...this.table.match(subject, 'system.request')].filter((id) => id !== this.#port.self);
    if (to.length === 0) return Promise.reject(new NoRespondersError(subject));
    return Promise.any(to.map((id) => this.#port.ask<R>(id, msg, options, subject))).catch((err: unknown) => {
      throw err instanceof AggregateError ? err.errors[0] : err;
    });
  }

  /**
   * A publish or request from another cluster node, on `env.topic`: to this
   * node's own subscribers only (`remote` tells the other nodes' entries in
   * the table, which never get it back). A request is answered by the first
   * local actor that answers, as `request` is.
   */
  fromNode(env: Envelope, remote: (id: string) => boolean): Promise<unknown> | null {
    const subject = env.topic!;
    const self = this.#port.self;
    const to = [...this.table.match(subject, 'cluster')].filter((id) => !remote(id));
    if (env.kind === 'tell') {
      if (to.includes(self)) this.#deliverLocal(subject, env.payload);
      this.#port.sendToEach({ ...env, to: subject }, to.filter((id) => id !== self));
      return null;
    }
    const actors = to.filter((id) => id !== self);
    if (actors.length === 0) return Promise.reject(new NoRespondersError(subject));
    return Promise.any(actors.map((id) => this.#port.ask(id, env.payload, {}, subject))).catch((err: unknown) => {
      throw err instanceof AggregateError ? err.errors[0] : err;
    });
  }

  /** A message published to the main thread's subscriptions arrived in its inbox. */
  deliver(env: Envelope): boolean {
    if (env.topic === undefined) return false;
    const handlers = this.#handlers.match(env.topic);
    if (handlers.size === 0) return false;
    for (const h of handlers) {
      let result: unknown;
      try {
        result = h(env.payload, env.topic);
      } catch (err) {
        this.#fail(env, err);
        continue;
      }
      if (env.kind === 'ask') {
        void Promise.resolve(result).then(
          (v) => this.#port.reply(env, v),
          (err: unknown) => this.#fail(env, err),
        );
        return true; // one answer per request
      }
    }
    return true;
  }

  #deliverLocal(subject: string, msg: unknown): void {
    for (const h of this.#handlers.match(subject)) {
      queueMicrotask(() => {
        try {
          h(msg, subject);
        } catch (err) {
          this.#port.onError(err, subject);
        }
      });
    }
  }

  #fail(env: Envelope, err: unknown): void {
    this.#port.onError(err, env.topic ?? '');
    if (env.kind === 'ask') this.#port.reply(env, undefined, err instanceof Error ? err : new Error(String(err)));
  }
}

/** The topics of a system: published through the main thread's endpoint, each subscription change posted to every live worker. */
export function systemTopics(endpoint: MainEndpoint, cells: () => Iterable<ChildCell>, log: Logger): Topics {
  return new Topics({
    self: SYSTEM_ID,
    sendToEach: (env, targets) => endpoint.sender.sendToEach(env, targets),
    ask: (to, msg, options, topic) => endpoint.ask(to, msg, options, topic),
    broadcast: (change) => {
      for (const cell of cells()) cell.post({ type: 'bus-change', change });
    },
    reply: (to, value, error) => endpoint.reply(to, value, error),
    onError: (err, subject) => log.error({ err, subject }, 'topic handler threw'),
  });
}
