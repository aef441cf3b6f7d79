// Type tests of typed actor protocols. This file is compiled by `npm run build`
// (and so by `npm test`) and never run: each `@ts-expect-error` line must be a
// compile error — were the types to let it through, tsc fails with "Unused
// '@ts-expect-error' directive" — and each expectTypeOf must hold exactly.
import { expectTypeOf } from 'expect-type';
import { defineActor } from '../../src/index.js';
import type { ActorContext, ActorRef, ActorSystem, ApiOf, ConfigOf, MessageOf, ReplyOf, Terminated, TopicMessageOf } from '../../src/index.js';
import type Enrich from '../fixtures/actors/typed/enrich.js';
import type { Raw } from '../fixtures/actors/typed/enrich.js';
import type Sink from '../fixtures/actors/typed/sink.js';
import type { SinkMsg } from '../fixtures/actors/typed/sink.js';

declare const system: ActorSystem;
declare const ctx: ActorContext;

// What an actor's type says about it, read off its hooks.
expectTypeOf<MessageOf<typeof Sink>>().toEqualTypeOf<SinkMsg>();
expectTypeOf<ReplyOf<typeof Sink>>().toEqualTypeOf<{ label: string; count: number } | undefined>();
expectTypeOf<ConfigOf<typeof Sink>>().toEqualTypeOf<{ label: string }>();
expectTypeOf<TopicMessageOf<typeof Sink>>().toEqualTypeOf<{ price: number }>();
expectTypeOf<MessageOf<typeof Enrich>>().toEqualTypeOf<Raw>();
expectTypeOf<ReplyOf<typeof Enrich>>().toEqualTypeOf<{ score: number; stored: number }>();
expectTypeOf<ApiOf<typeof Enrich>>().toHaveProperty('scale').toEqualTypeOf<(price: number) => number>();
expectTypeOf<ApiOf<typeof Sink>>().toEqualTypeOf<object>();

// Refs from the main thread check both directions.
const sink = system.ref<typeof Sink>('sink');
expectTypeOf(sink).toEqualTypeOf<ActorRef<typeof Sink>>();
sink.tell({ type: 'count' });
sink.tell({ type: 'record', symbol: 'BTC', price: 1, score: 2 });
// @ts-expect-error a misspelt field
sink.tell({ tpye: 'count' });
// @ts-expect-error a message the actor does not take
sink.tell({ type: 'reset' });
// @ts-expect-error a missing field
sink.tell({ type: 'record', symbol: 'BTC', price: 1 });
expectTypeOf(sink.ask({ type: 'count' })).resolves.toEqualTypeOf<{ label: string; count: number } | undefined>();
// A typed ref's answer is the actor's reply type even if a type argument says otherwise.
expectTypeOf(sink.ask<string>({ type: 'count' })).resolves.toEqualTypeOf<{ label: string; count: number } | undefined>();
// @ts-expect-error the reply has no `total`
void sink.ask({ type: 'count' }).then((r) => r?.total);

// Refs from inside an actor, and ctx.send / ctx.ask with the actor's type.
ctx.ref<typeof Sink>('sink').tell({ type: 'count' });
ctx.send<typeof Sink>('sink', { type: 'count' });
// @ts-expect-error ctx.send checks the message too
ctx.send<typeof Sink>('sink', { type: 'counts' });
expectTypeOf(ctx.ask<typeof Enrich>('enrich', { symbol: 'BTC', price: 3 })).resolves.toEqualTypeOf<{ score: number; stored: number }>();
// @ts-expect-error price must be a number
void ctx.ask<typeof Enrich>('enrich', { symbol: 'BTC', price: '3' });
// Without an actor's type, an ask is the old unchecked cast: any message, the answer as given.
expectTypeOf(ctx.ask<number>('anyone', { anything: true })).resolves.toEqualTypeOf<number>();
expectTypeOf(system.ref('anyone').ask({})).resolves.toBeUnknown();

// Proxies take the actor's api.
const enrich = system.proxy<typeof Enrich>('enrich');
expectTypeOf(enrich.scale(2)).resolves.toEqualTypeOf<number>();
// @ts-expect-error scale takes a number
void enrich.scale('2');
// @ts-expect-error the api has no `reset`
void enrich.reset();
void ctx.proxy<typeof Enrich>('enrich').seen();
// @ts-expect-error an actor without an api has no proxy methods
void system.proxy<typeof Sink>('sink').count();

// spawn checks the child's config against the actor's and types the ref.
async function spawning(): Promise<void> {
  const child = await system.spawn<typeof Enrich>('workers', { id: 'e2', config: { factor: 2, sink: 'sink' } });
  expectTypeOf(child).toEqualTypeOf<ActorRef<typeof Enrich>>();
  // @ts-expect-error factor must be a number
  await system.spawn<typeof Enrich>('workers', { id: 'e3', config: { factor: 'two', sink: 'sink' } });
  // @ts-expect-error an unknown child-spec field
  await system.spawn('workers', { id: 'e4', modul: './x.js' });
}
void spawning;

// Explicit generics still take an api (its type is then `object` unless given).
const explicit = defineActor<{ n: number }, { op: 'get' }, { start: number }>({
  init: (c) => ({ n: c.config.start }),
  receive: (s) => s.n,
  api: (s) => ({ get: () => s.n }),
});
void explicit;

// Watches: onTerminated's message narrows on `reason`; a listener of system.watch gets the same type.
defineActor({
  init: () => ({ n: 0 }),
  receive: (state) => state.n,
  onTerminated(state, msg) {
    expectTypeOf(msg).toEqualTypeOf<Terminated>();
    if (msg.reason === 'crashed') expectTypeOf(msg.error.message).toEqualTypeOf<string>();
    if (msg.reason === 'node-down') expectTypeOf(msg.node).toEqualTypeOf<string>();
    // @ts-expect-error only a crash has an error
    if (msg.reason === 'stopped') void msg.error;
    // @ts-expect-error not a reason
    if (msg.reason === 'exploded') state.n++;
  },
});
expectTypeOf(system.watch('risk', (t) => expectTypeOf(t).toEqualTypeOf<Terminated>())).toEqualTypeOf<() => void>();
ctx.watch('risk');
// @ts-expect-error an id is a string
ctx.watch(1);
