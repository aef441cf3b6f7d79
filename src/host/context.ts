import type { Logger } from 'pino';
import type { ActorContext, AskOptions, TellOptions } from '../actor/define.js';
import type { AnswerFor, ApiFor } from '../actor/protocol.js';
import { ActorRef, type RefPort } from '../actor/ref.js';
import type { SubjectTrie } from '../bus/trie.js';
import type { Envelope } from '../codec/envelope.js';
import type { Outgoing } from './outgoing.js';
import type { HostBoot, HostToMain } from './protocol.js';
import type { HostWatches } from './watching.js';

/** What an actor's context reads and acts through, as its host holds it. */
export interface ContextSource {
  readonly boot: HostBoot;
  readonly log: Logger;
  readonly out: Outgoing;
  /** This incarnation's watches (`ctx.watch`). */
  readonly watches: HostWatches;
  /** This thread's copy of the system's topic subscriptions. */
  readonly bus: SubjectTrie<string>;
  /** The config now (updated before `configure` runs). */
  config(): unknown;
  /** The message being handled, or null between messages. */
  current(): Envelope | null;
  /** Whether the message being handled was taken by an earlier incarnation that ended before releasing it. */
  redelivered(): boolean;
  /** Answer the ask being handled now, unless it was answered already. */
  reply(value: unknown): void;
  /** End the actor normally after the current message. */
  stop(reason: string): void;
  /** Append events to the actor's journal (rejects for an actor without persistence). */
  persist(events: readonly unknown[]): Promise<unknown>;
  snapshot(): Promise<void>;
  post(m: HostToMain): void;
}

/** The ActorContext one incarnation's hooks get. */
export function makeContext(src: ContextSource): ActorContext {
  const { boot: b, out, bus } = src;
  // One port for every ref this actor makes.
  const refPort: RefPort = { tell: (to, msg, o) => out.tell(to, msg, o), ask: <R>(to: string, msg: unknown, o: AskOptions = {}) => out.ask<R>(to, msg, o, undefined) };
  return {
    self: b.id,
    system: b.system,
    incarnation: b.incarnation,
    get config() {
      return src.config();
    },
    log: src.log,
    ref: <T>(id: string): ActorRef<T> => new ActorRef<T>(id, refPort),
    send: (to: string, msg: unknown, options?: TellOptions): void => out.tell(to, msg, options),
    ask: <T>(to: string, msg: unknown, options: AskOptions = {}): Promise<AnswerFor<T>> => out.ask<AnswerFor<T>>(to, msg, options, undefined),
    proxy: <T>(to: string, options: AskOptions = {}) => out.proxy<ApiFor<T>>(to, options),
    watch: (id: string): void => src.watches.watch(id),
    unwatch: (id: string): void => src.watches.unwatch(id),
    get topic() {
      return src.current()?.topic;
    },
    get from() {
      return src.current()?.from;
    },
    get redelivered() {
      return src.current() !== null && src.redelivered();
    },
    publish: (subject: string, msg: unknown, options?: TellOptions): number => out.publish(subject, msg, options),
    subscribe: (pattern: string): void => {
      // Validated and applied here at once; the system table follows by the control port.
      if (bus.add(pattern, b.id, 'ctx.subscribe')) src.post({ type: 'subscribe', pattern });
    },
    unsubscribe: (pattern: string): void => {
      if (bus.remove(pattern, b.id, 'ctx.unsubscribe')) src.post({ type: 'unsubscribe', pattern });
    },
    request: <R>(subject: string, msg: unknown, options: AskOptions = {}): Promise<R> => out.request<R>(subject, msg, options),
    persist: <S>(event: unknown): Promise<S> => src.persist([event]) as Promise<S>,
    persistAll: <S>(events: readonly unknown[]): Promise<S> => src.persist(Array.isArray(events) ? events : [events]) as Promise<S>,
    snapshot: (): Promise<void> => src.snapshot(),
    reply: (value: unknown): void => src.reply(value),
    stop: (reason = 'normal'): void => src.stop(reason),
  };
}
