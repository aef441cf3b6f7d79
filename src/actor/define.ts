import type { Remote } from 'comlink';
import type { Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';

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
   * Fire-and-forget to another actor. Never blocks; order per destination
   * and priority is kept. Throws MailboxFullError only when the receiver's
   * mailbox is full and its overflow policy is `fail`.
   */
  send(to: string, msg: unknown, options?: TellOptions): void;
  /** Request/response to another actor; settles with the reply or a RingmasterError. */
  ask<R = unknown>(to: string, msg: unknown, options?: AskOptions): Promise<R>;
  /** Topic the message being handled was published on; undefined for a message sent to this actor directly. */
  readonly topic: string | undefined;
  /** Sender of the message being handled ('$system' for the main thread). */
  readonly from: string | undefined;
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
   * A typed proxy to another actor's `api`: `await ctx.proxy<RiskApi>('risk').check(order)`.
   * Each call is an ask (same timeout, priority and settling rules).
   */
  proxy<T>(to: string, options?: AskOptions): Remote<T>;
  /** Answer the ask being handled now (instead of returning the value from `receive`). */
  reply(value: unknown): void;
  /** End this actor normally after the current message: not a crash (see `transient`, `temporary`). */
  stop(reason?: string): void;
  /** pino logger carrying `system`, `actor` and `incarnation`. */
  readonly log: Logger;
}

export interface ActorDefinition<State = unknown, Msg = unknown, Config = unknown> {
  /** Build the initial state. Throwing fails the start (a crash with cause 'init'). */
  init: (ctx: ActorContext<Config>) => State | Promise<State>;
  /**
   * Handle one message. For an ask, the returned value (or `ctx.reply`) is the
   * answer. Throwing crashes the actor: its supervisor decides what follows.
   */
  receive: (state: State, msg: Msg, ctx: ActorContext<Config>) => unknown;
  /**
   * Methods other threads call through typed proxies (`system.proxy<Api>(id)`,
   * `ctx.proxy<Api>(id)`), built once per incarnation after `init`. Calls are
   * mail like any other: one at a time, between messages. A method that
   * throws rejects the caller's promise; the actor does not crash.
   */
  api?: (state: State, ctx: ActorContext<Config>) => object;
  health?: (state: State, ctx: ActorContext<Config>) => ActorHealth | Promise<ActorHealth>;
  configure?: (state: State, config: Config, ctx: ActorContext<Config>) => void | Promise<void>;
  /** Runs on a graceful stop (not after a crash). */
  stop?: (state: State, ctx: ActorContext<Config>) => void | Promise<void>;
}

export const ACTOR_BRAND = Symbol.for('ringmaster.actor');

export type DefinedActor<State = unknown, Msg = unknown, Config = unknown> = ActorDefinition<State, Msg, Config> & {
  readonly [ACTOR_BRAND]: true;
};

/** Declare an actor; a module's default export must be the result. */
export function defineActor<State, Msg = unknown, Config = unknown>(
  def: ActorDefinition<State, Msg, Config>,
): DefinedActor<State, Msg, Config> {
  if (typeof def?.init !== 'function' || typeof def?.receive !== 'function') {
    throw new InvalidOptionError('defineActor()', 'needs at least init(ctx) and receive(state, msg, ctx) functions');
  }
  return Object.freeze({ ...def, [ACTOR_BRAND]: true as const });
}

export function isDefinedActor(v: unknown): v is DefinedActor {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[ACTOR_BRAND] === true;
}
