import type { DefinedActor } from './define.js';

/**
 * What an actor made by `defineActor` accepts and answers, read off its type.
 *
 * Give `typeof TheActor` (an `import type`, so nothing loads) wherever
 * ringmaster takes a type argument naming another actor — `system.ref`,
 * `ctx.ref`, `ctx.send`, `ctx.ask`, `proxy`, `spawn` — and both directions
 * are checked at compile time. Any other type keeps its old, unchecked
 * meaning: the message type of a ref, the answer type of an ask, the api
 * interface of a proxy.
 */

// `any` here only matches every actor, whatever its types; nothing is read as `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActor = DefinedActor<any, any, any, any, any, any>;

/** What `receive` takes: what a tell or an ask to the actor may carry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MessageOf<A extends AnyActor> = A extends DefinedActor<any, infer M, any, any, any, any> ? M : never;
/** What an ask to the actor settles with: what its `receive` returns, awaited. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ReplyOf<A extends AnyActor> = A extends DefinedActor<any, any, any, infer R, any, any> ? Awaited<R> : never;
/** The actor's `config` (as `ctx.config` types it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigOf<A extends AnyActor> = A extends DefinedActor<any, any, infer C, any, any, any> ? C : never;
/** What the actor's `api` returns: what a proxy to it can call (`object`, nothing to call, for an actor without an api). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiOf<A extends AnyActor> = A extends DefinedActor<any, any, any, any, infer P, any> ? P : never;
/** What `onTopic` takes (`never` for an actor without one: its topic messages go to `receive`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TopicMessageOf<A extends AnyActor> = A extends DefinedActor<any, any, any, any, any, infer T> ? T : never;

/** A tell's message: checked when `T` is an actor's type, else `T` itself (the old meaning: a ref's message type). */
export type MessageFor<T> = [T] extends [AnyActor] ? MessageOf<T> : T;
/** An ask's message: checked when `T` is an actor's type, else anything. */
export type AskMessageFor<T> = [T] extends [AnyActor] ? MessageOf<T> : unknown;
/** An ask's answer: the actor's reply when `T` is an actor's type, else `T` (an unchecked cast). */
export type AnswerFor<T> = [T] extends [AnyActor] ? ReplyOf<T> : T;
/** What a ref's ask settles with: the actor's reply when `T` is an actor's type, else unknown (`T` is then the message type). */
export type RefAnswer<T> = [T] extends [AnyActor] ? ReplyOf<T> : unknown;
/** A proxy's methods: the actor's api when `T` is an actor's type, else `T` (an interface). */
export type ApiFor<T> = [T] extends [AnyActor] ? ApiOf<T> : T;
/** A spawned child's config: checked when `T` is an actor's type. */
export type ConfigFor<T> = [T] extends [AnyActor] ? ConfigOf<T> : unknown;
