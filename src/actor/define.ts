import type { Remote } from 'comlink';
import type { Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';
import type { AnswerFor, ApiFor, AskMessageFor, MessageFor } from './protocol.js';
import type { ActorRef } from './ref.js';
import type { Terminated } from './watch.js';

/** Health an actor reports about itself (the `health` hook). */
export interface ActorHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  details?: Record<string, unknown>;
}

/** Inbox lane of a message: `system` is served first, then `high`, then `normal` (the default). */
export type MessagePriority = 'system' | 'high' | 'normal';

export interface TellOptions {
  /** Default 'normal'. A high message overtakes every normal one waiting, and waits at most for the message being handled. */
  priority?: MessagePriority;
}

export interface AskOptions extends TellOptions {
  /** Milliseconds to wait for the reply; default the system's `askTimeoutMs` (DEFAULT_ASK_TIMEOUT_MS unless set). */
  timeout?: number;
}

/** What an actor's hooks get to act with. Lives in the actor's own worker thread. */
export interface ActorContext<Config = unknown> {
  /** This actor's id. */
  readonly self: string;
  /** The system's name. */
  readonly system: string;
  /** 1 for the first start, +1 for every restart. */
  readonly incarnation: number;
  /** The child's `config` from the tree (updated before `configure` runs). */
  readonly config: Config;
  /**
   * A reference to another actor: `ctx.ref<typeof Sink>('sink').tell(msg)`
   * checks the message against Sink's `receive` at compile time.
   */
  ref<T = unknown>(id: string): ActorRef<T>;
  /**
   * Fire-and-forget to another actor. Never blocks; order per destination
   * and priority is kept. Throws MailboxFullError only when the receiver's
   * mailbox is full and its overflow policy is `fail`.
   * `ctx.send<typeof Sink>('sink', msg)` checks `msg` against Sink's messages.
   */
  send<T = unknown>(to: string, msg: MessageFor<T>, options?: TellOptions): void;
  /**
   * Request/response to another actor; settles with the reply or a RingmasterError.
   * `ctx.ask<typeof Enrich>('enrich', raw)` checks the question and types the
   * answer from Enrich's `receive`; `ctx.ask<R>(to, msg)` with any other type is
   * an unchecked cast of the answer to `R`.
   */
  ask<T = unknown>(to: string, msg: AskMessageFor<T>, options?: AskOptions): Promise<AnswerFor<T>>;
  /** Topic the message being handled was published on; undefined for a message sent to this actor directly. */
  readonly topic: string | undefined;
  /** Sender of the message being handled ('$system' for the main thread). */
  readonly from: string | undefined;
  /**
   * True while handling a message an earlier incarnation of this actor took
   * and did not release: it died in the handler (under `maxRedeliveries`), or
   * before what the handler sent was all in the receivers' rings, or was
   * stopped by force. The handler may have run for it already, in part or whole.
   */
  readonly redelivered: boolean;
  /**
   * Publish to every actor subscribed to a pattern matching `subject`
   * (dot-separated tokens, no wildcards). Goes straight into each
   * subscriber's ring; returns how many subscribers it reached (0 is counted
   * as unrouted, not an error).
   */
  publish(subject: string, msg: unknown, options?: TellOptions): number;
  /**
   * Receive messages published on subjects matching `pattern` (`*` = one
   * token, `>` = one or more trailing tokens). Kept across this actor's
   * restarts; calling it again with the same pattern changes nothing.
   */
  subscribe(pattern: string): void;
  unsubscribe(pattern: string): void;
  /**
   * Request/response over a topic: asks every subscriber of `subject` (but
   * this actor) and settles with the first answer; NoRespondersError when
   * nobody subscribes, the first error when every one fails.
   */
  request<R = unknown>(subject: string, msg: unknown, options?: AskOptions): Promise<R>;
  /**
   * A typed proxy to another actor's `api`: `await ctx.proxy<typeof Risk>('risk').check(order)`
   * (or `ctx.proxy<RiskApi>('risk')` with an interface). Each call is an ask
   * (same timeout, priority and settling rules).
   */
  proxy<T>(to: string, options?: AskOptions): Remote<ApiFor<T>>;
  /**
   * Watch actor `id` (on this node or another): when its current incarnation
   * ends — a crash (even one its supervisor restarts), a stop, its node going
   * down — `onTerminated` gets one `{ type: 'terminated', id, reason }`; an id
   * no node hosts gets `no-such-actor` at once. One-shot: watch again for the
   * next incarnation. Watching twice is one watch. This incarnation's watches
   * end with it (a restarted actor watches again in `init`). Throws
   * InvalidOptionError when the actor has no `onTerminated`.
   */
  watch(id: string): void;
  /** Stop watching `id`: no `terminated` for it arrives after this (a no-op when not watched). */
  unwatch(id: string): void;
  /**
   * Append `event` to this actor's journal (an actor with `persistence`).
   * Resolves once it is durable and `apply` has moved the state, with the
   * state after it; what depends on the event (a reply, a send) belongs after
   * the `await`. Persists of one turn are one write (group commit). A failed
   * write crashes the actor; the next incarnation recovers what is durable.
   */
  persist<S = unknown>(event: unknown): Promise<S>;
  /** `persist` for several events: one write, all or none. */
  persistAll<S = unknown>(events: readonly unknown[]): Promise<S>;
  /** Write a snapshot of the state now (after what is being persisted). */
  snapshot(): Promise<void>;
  /** Answer the ask being handled now (instead of returning the value from `receive`). */
  reply(value: unknown): void;
  /** End this actor normally after the current message: not a crash (see `transient`, `temporary`). */
  stop(reason?: string): void;
  /** pino logger carrying `system`, `actor` and `incarnation`. */
  readonly log: Logger;
}

/** The context `onTopic` gets: the subject the message was published on is always there. */
export type TopicContext<Config = unknown> = Omit<ActorContext<Config>, 'topic'> & { readonly topic: string };

/**
 * An actor, as `defineActor` takes it. Every type is inferred from the hooks:
 * `State` from `init`'s result, `Msg` from `receive`'s `msg` parameter,
 * `Reply` from what `receive` returns, `Config` from the `ctx` parameter's
 * annotation (`init(ctx: ActorContext<MyConfig>)`), `Api` from `api`'s
 * result and `Topic` from `onTopic`'s `msg` parameter.
 */
export interface ActorDefinition<State = unknown, Msg = unknown, Config = unknown, Reply = unknown, Api extends object = object, Topic = never> {
  /** Build the initial state. Throwing fails the start (a crash with cause 'init'). */
  init(ctx: ActorContext<Config>): State | Promise<State>;
  /**
   * Handle one message sent or asked to this actor (and, when there is no
   * `onTopic`, one published on a subject it subscribes to). For an ask, the
   * returned value (or `ctx.reply`) is the answer. Throwing crashes the
   * actor: its supervisor decides what follows.
   */
  receive(state: State, msg: Msg, ctx: ActorContext<Config>): Reply | Promise<Reply>;
  /**
   * Handle one message published on a subject this actor subscribes to
   * (`ctx.topic` is the subject). For a `request`, the returned value is the
   * answer. Without `onTopic`, published messages go to `receive`.
   */
  onTopic?(state: State, msg: Topic, ctx: TopicContext<Config>): unknown;
  /**
   * An actor this one watches (`ctx.watch`) has ended: `msg.reason` is
   * `'crashed'`, `'stopped'`, `'node-down'` or `'no-such-actor'`. Handled
   * between messages like mail, ahead of normal and high mail (the system
   * lane); `receive` never sees it. Throwing crashes the actor.
   */
  onTerminated?(state: State, msg: Terminated, ctx: ActorContext<Config>): void | Promise<void>;
  /**
   * Methods other threads call through typed proxies (`system.proxy<typeof A>(id)`,
   * `ctx.proxy<typeof A>(id)`), built once per incarnation after `init`. Calls are
   * mail like any other: one at a time, between messages. What a method's
   * error does is `apiErrors`.
   */
  api?(state: State, ctx: ActorContext<Config>): Api;
  /**
   * What an error thrown by an `api` method does. `'reply'` (the default):
   * the caller's promise rejects with it and the actor carries on. `'crash'`:
   * the actor crashes as if `receive` had thrown (its supervisor decides what
   * follows) and the caller's promise rejects with ActorCrashedError, whose
   * `cause` is the method's error.
   */
  apiErrors?: 'reply' | 'crash';
  /**
   * Make the actor persistent: its state survives crashes and restarts of the
   * whole process. `ctx.persist(event)` appends events to its journal;
   * `apply` turns them into state, after they are durable and again on
   * recovery (each start rebuilds the state from the latest snapshot and the
   * events after it, before any message is handled). See docs/persistence.md.
   */
  persistence?: PersistenceSpec<State, Config>;
  health?(state: State, ctx: ActorContext<Config>): ActorHealth | Promise<ActorHealth>;
  configure?(state: State, config: Config, ctx: ActorContext<Config>): void | Promise<void>;
  /** Runs on a graceful stop (not after a crash). */
  stop?(state: State, ctx: ActorContext<Config>): void | Promise<void>;
}

/** A persistent actor's journal settings (`persistence` in defineActor). */
export interface PersistenceSpec<State = unknown, Config = unknown> {
  /** The state after `event`: a pure function of the two (it runs again at every recovery). It may change `state` and return it. */
  apply(state: State, event: unknown): State;
  /** Write a snapshot every this many events (default 0: only when `ctx.snapshot()` is called). */
  snapshotEvery?: number;
  /** After each snapshot, delete the events and older snapshots it covers (default false: every event is kept). */
  prune?: boolean;
  /** The journal's id (default: the actor's id). Two actors with one id would share a journal: the later start fences the earlier off. */
  id?(ctx: ActorContext<Config>): string;
}

export const ACTOR_BRAND = Symbol.for('ringmaster.actor');

export type DefinedActor<State = unknown, Msg = unknown, Config = unknown, Reply = unknown, Api extends object = object, Topic = never> = ActorDefinition<
  State,
  Msg,
  Config,
  Reply,
  Api,
  Topic
> & {
  readonly [ACTOR_BRAND]: true;
};

/**
 * Declare an actor; a module's default export must be the result. The
 * result carries the actor's types, so other modules can check what they
 * send it: `import type Sink from './sink.js'` and then `ref<typeof Sink>`.
 */
export function defineActor<State, Msg = unknown, Config = unknown, Reply = unknown, Api extends object = object, Topic = never>(
  def: ActorDefinition<State, Msg, Config, Reply, Api, Topic>,
): DefinedActor<State, Msg, Config, Reply, Api, Topic> {
  if (typeof def?.init !== 'function' || typeof def?.receive !== 'function') {
    throw new InvalidOptionError('defineActor()', 'needs at least init(ctx) and receive(state, msg, ctx) functions');
  }
  for (const hook of ['onTopic', 'onTerminated', 'api', 'health', 'configure', 'stop'] as const) {
    if (def[hook] !== undefined && typeof def[hook] !== 'function') throw new InvalidOptionError(`defineActor() ${hook}`, `must be a function, got ${typeof def[hook]}`);
  }
  const p = def.persistence as PersistenceSpec | undefined;
  if (p !== undefined) {
    if (typeof p !== 'object' || p === null || typeof p.apply !== 'function') throw new InvalidOptionError('defineActor() persistence', 'must be { apply(state, event), snapshotEvery?, prune?, id? }');
    if (p.snapshotEvery !== undefined && !(Number.isInteger(p.snapshotEvery) && p.snapshotEvery >= 0)) {
      throw new InvalidOptionError('defineActor() persistence.snapshotEvery', `must be a whole number of events (0 or more), got ${String(p.snapshotEvery)}`);
    }
    if (p.id !== undefined && typeof p.id !== 'function') throw new InvalidOptionError('defineActor() persistence.id', `must be a function (ctx) => string, got ${typeof p.id}`);
  }
  if (def.apiErrors !== undefined && def.apiErrors !== 'reply' && def.apiErrors !== 'crash') {
    throw new InvalidOptionError('defineActor() apiErrors', `must be 'reply' or 'crash', got ${JSON.stringify(def.apiErrors)}`);
  }
  return Object.freeze({ ...def, [ACTOR_BRAND]: true as const });
}

export function isDefinedActor(v: unknown): v is DefinedActor {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[ACTOR_BRAND] === true;
}
