import type { Logger } from 'pino';
import { createLogger } from '../log/logger.js';
import { AskTable } from '../actor/asks.js';
import { isDefinedActor, type ActorContext, type AskOptions, type DefinedActor, type TellOptions } from '../actor/define.js';
import { Sender } from '../actor/sender.js';
import { fromWire, toWire } from '../actor/wire-error.js';
import { Codec, expectsReply, type Envelope } from '../codec/envelope.js';
import { MailboxFullError, ModuleLoadError, NoRespondersError, type CrashCause } from '../errors.js';
import { applyChange, replicaOf } from '../bus/registry.js';
import { ApiServer, makeProxy, throwResponse } from '../actor/rpc.js';
import { guarded } from '../transport/breaker.js';
import { laneOf } from '../transport/protocol.js';
import type { EnvelopeKind } from '../codec/envelope.js';
import type { SubjectTrie } from '../bus/trie.js';
import { Endpoint, type ControlPort } from '../transport/endpoint.js';
import { getHeapStatistics } from 'node:v8';
import { ActorState, F64_BUSY_SINCE, F64_HEAP_USED_MB, F64_HEARTBEAT_AT, HEARTBEAT, IN_FLIGHT_SLOT, Liveness, MSGS_FINISHED, MSGS_SENT, MSGS_STARTED, PUBLISHED, STATE, UNROUTED } from '../liveness/liveness.js';
import type { HostBoot, HostToMain, MainToHost } from './protocol.js';

/**
 * Longest a parked host sleeps before re-checking. Senders and control
 * messages wake it; the heartbeat timer keeps liveness without waking the
 * loop, so an idle actor wakes once per heartbeat and not more.
 */
const PARK_MS = 30_000;
/** Handlers run back to back before the host yields to its event loop (timers, control messages). */
const YIELD_EVERY_MSGS = 64;
const YIELD_EVERY_MS = 5;

/**
 * The worker side of one actor incarnation: load the module, run `init`,
 * then handle mail one message at a time until stopped or crashed.
 */
export class Host {
  readonly #boot: HostBoot;
  readonly #port: ControlPort;
  readonly #live: Liveness;
  readonly #endpoint: Endpoint;
  readonly #sender: Sender;
  readonly #asks = new AskTable();
  readonly #log: Logger;
  /** This thread's copy of the system's topic subscriptions. */
  readonly #bus: SubjectTrie<string>;
  #def: DefinedActor | null = null;
  #api: ApiServer | null = null;
  #state: unknown;
  #ctx!: ActorContext;
  #config: unknown;
  #current: Envelope | null = null;
  #replied = false;
  #dead = false;
  #stop: { drain: boolean; reason: string } | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(boot: HostBoot, port: ControlPort) {
    this.#boot = boot;
    this.#port = port;
    this.#config = boot.config;
    this.#bus = replicaOf(boot.subscriptions ?? []);
    this.#live = new Liveness(boot.liveness);
    this.#log = createLogger({ level: boot.logLevel, pretty: boot.logPretty, base: { system: boot.system, actor: boot.id, incarnation: boot.incarnation } });
    const codec = new Codec({ maxMessageBytes: boot.maxMessageBytes });
    this.#endpoint = new Endpoint(port, boot.inbox, {
      codec,
      spinMicros: boot.spinMicros,
      onUndecodable: (_slot, err, raw) => this.#deadLetter({ kind: 'tell', from: '?', to: boot.id, id: 0, payload: raw }, err),
      onRingCorrupt: (slot, err) => this.#log.error({ slot, err }, 'inbox ring corrupt; sender detached'),
      onShed: (env) => this.#shed(env),
    });
    this.#sender = new Sender(this.#endpoint, codec, (env, err) => this.#undeliverable(env, err), boot.sendTimeoutMs);
    port.on('message', (m) => this.#control(m as MainToHost));
  }

  async run(): Promise<void> {
    const b = this.#boot;
    // A first heap figure now: the heartbeat refreshes it, and without heartbeats this is the only one.
    this.#live.f64[F64_HEAP_USED_MB] = getHeapStatistics().used_heap_size / 1048576;
    if (b.heartbeatMs > 0) {
      let beats = 0;
      this.#live.f64[F64_HEARTBEAT_AT] = Date.now();
      this.#heartbeat = setInterval(() => {
        Atomics.add(this.#live.i32, HEARTBEAT, 1);
        this.#live.f64[F64_HEARTBEAT_AT] = Date.now();
        // Heap size for health and metrics, a few times a second at most.
        if (beats++ % Math.max(1, Math.round(250 / b.heartbeatMs)) === 0) this.#live.f64[F64_HEAP_USED_MB] = getHeapStatistics().used_heap_size / 1048576;
      }, b.heartbeatMs);
    }
    process.on('unhandledRejection', (reason) => this.#fatal('unhandled-rejection', reason));
    let mod: { default?: unknown };
    try {
      mod = (await import(b.moduleUrl)) as { default?: unknown };
    } catch (err) {
      this.#fatal('module', new ModuleLoadError(`actor '${b.id}': cannot load ${b.moduleUrl}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    if (!isDefinedActor(mod.default)) {
      this.#fatal('module', new ModuleLoadError(`actor '${b.id}': ${b.moduleUrl} has no default export made by defineActor()`));
      return;
    }
    this.#def = mod.default;
    this.#ctx = this.#makeContext();
    try {
      // An init may ask other actors: keep reading replies while it runs.
      this.#state = await this.#withReplies(Promise.resolve().then(() => this.#def!.init(this.#ctx)));
    } catch (err) {
      this.#fatal('init', err);
      return;
    }
    try {
      const api = this.#def.api?.(this.#state, this.#ctx);
      if (api !== undefined) this.#api = new ApiServer(api);
    } catch (err) {
      this.#fatal('init', err);
      return;
    }
    Atomics.store(this.#live.i32, STATE, ActorState.idle);
    this.#post({ type: 'ready' });
    await this.#loop();
  }

  async #loop(): Promise<void> {
    const inbox = this.#endpoint.inbox;
    const onReply = (env: Envelope): void => this.#reply(env);
    let sinceYield = 0;
    let yieldAt = performance.now() + YIELD_EVERY_MS;
    while (!this.#dead) {
      inbox.drainReplies(onReply);
      if (this.#stop && !this.#stop.drain) break;
      const env = inbox.nextMail();
      if (env) {
        const r = this.#handle(env);
        if (r !== undefined) await this.#withReplies(r);
        // A message is done once what it sent is in the receivers' rings: were
        // the actor to crash on a later message, those sends must not be lost
        // with this thread's queue.
        if (this.#sender.queued > 0) await this.#sender.idle();
        if (this.#dead) return;
        inbox.releaseMail();
        if (++sinceYield >= YIELD_EVERY_MSGS || performance.now() > yieldAt) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sinceYield = 0;
          yieldAt = performance.now() + YIELD_EVERY_MS;
        }
        continue;
      }
      if (this.#stop) break; // draining, and the inbox is empty
      await inbox.waitForWorkAsync(PARK_MS);
      sinceYield = 0;
      yieldAt = performance.now() + YIELD_EVERY_MS;
    }
    if (this.#dead) return;
    await this.#finish();
  }

  /**
   * While an async hook runs (a handler, init, stop), keep reading the reply
   * lane: it may be waiting on the answer to its own ask, which must not
   * queue behind mail.
   */
  async #withReplies<T>(pending: Promise<T>): Promise<T> {
    const inbox = this.#endpoint.inbox;
    const onReply = (env: Envelope): void => this.#reply(env);
    let settled = false;
    const done = pending.finally(() => {
      settled = true;
      inbox.doorbell.wake();
    });
    // Its rejection is taken below, after the loop: until then it must not count as unhandled.
    done.catch(() => {});
    while (!settled) {
      inbox.drainReplies(onReply);
      if (settled) break;
      await inbox.waitForRepliesAsync(PARK_MS);
    }
    return done;
  }

  /** Handle one message; returns a promise only when the handler is async. */
  #handle(env: Envelope): Promise<void> | undefined {
    const i32 = this.#live.i32;
    Atomics.store(i32, STATE, ActorState.busy);
    Atomics.store(i32, IN_FLIGHT_SLOT, this.#endpoint.inbox.inFlightSlot);
    const started = performance.timeOrigin + performance.now();
    this.#live.f64[F64_BUSY_SINCE] = started;
    Atomics.add(i32, MSGS_STARTED, 1);
    this.#current = env;
    this.#replied = false;
    let result: unknown;
    try {
      result = env.kind === 'call' ? this.#call(env) : this.#def!.receive(this.#state, env.payload, this.#ctx);
    } catch (err) {
      this.#fatal('exception', err);
      return undefined;
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => this.#done(env, v, started),
        (err) => this.#fatal('exception', err),
      );
    }
    this.#done(env, result, started);
    return undefined;
  }

  #done(env: Envelope, value: unknown, started: number): void {
    if (expectsReply(env.kind) && !this.#replied) this.#sendReply(env, value);
    this.#current = null;
    const i32 = this.#live.i32;
    this.#live.recordHandler(performance.timeOrigin + performance.now() - started);
    this.#live.f64[F64_BUSY_SINCE] = 0;
    Atomics.store(i32, IN_FLIGHT_SLOT, -1);
    Atomics.add(i32, MSGS_FINISHED, 1);
    Atomics.store(i32, STATE, this.#stop ? ActorState.stopping : ActorState.idle);
  }

  /** A typed-proxy call: the api answers (a method's error goes back inside the response). */
  #call(env: Envelope): Promise<unknown> {
    if (this.#api) return this.#api.handle(env);
    const id = (env.payload as { id?: unknown } | null)?.id;
    return Promise.resolve(throwResponse(id, new TypeError(`actor '${this.#boot.id}' has no api: give defineActor() an api(state, ctx) to call it through a proxy`)));
  }

  #sendReply(to: Envelope, value: unknown): void {
    this.#replied = true;
    Atomics.add(this.#live.i32, MSGS_SENT, 1);
    try {
      this.#sender.send({ kind: 'reply', from: this.#boot.id, to: to.from, id: to.id, payload: value }, 'reply');
    } catch (err) {
      // A reply that can never be sent (too large, not encodable) fails the
      // ask at once with the reason, rather than leaving it to time out.
      this.#sender.send({ kind: 'error', from: this.#boot.id, to: to.from, id: to.id, payload: toWire(err) }, 'reply');
    }
  }

  #reply(env: Envelope): void {
    if (env.kind === 'reply') this.#asks.resolve(env.id, env.payload, env.from);
    else if (env.kind === 'error') this.#asks.reject(env.id, fromWire(env.payload as never));
  }

  async #finish(): Promise<void> {
    const stop = this.#stop!;
    Atomics.store(this.#live.i32, STATE, ActorState.stopping);
    try {
      await this.#withReplies(Promise.resolve().then(() => this.#def!.stop?.(this.#state, this.#ctx)));
    } catch (err) {
      this.#log.error({ err }, 'stop hook threw');
    }
    await this.#sender.idle(); // replies and tells still waiting for a ring go out first
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    Atomics.store(this.#live.i32, STATE, ActorState.stopped);
    this.#post({ type: 'stopped', reason: stop.reason });
  }

  #control(m: MainToHost): void {
    switch (m.type) {
      case 'stop':
        this.#stop ??= { drain: m.drain, reason: 'shutdown' };
        this.#endpoint.inbox.doorbell.wake();
        return;
      case 'settle-ask':
        this.#asks.reject(m.askId, fromWire(m.error));
        return;
      case 'configure':
        void this.#configure(m.requestId, m.config);
        return;
      case 'health-request':
        void this.#health(m.requestId);
        return;
      case 'log-level':
        this.#log.level = m.level;
        return;
      case 'bus-change':
        applyChange(this.#bus, m.change);
        return;
      default:
        return; // transport messages: the Endpoint handles them
    }
  }

  async #configure(requestId: number, config: unknown): Promise<void> {
    this.#config = config;
    try {
      await this.#def?.configure?.(this.#state, config, this.#ctx);
      this.#post({ type: 'configured', requestId });
    } catch (err) {
      this.#post({ type: 'configured', requestId, error: toWire(err) });
    }
  }

  async #health(requestId: number): Promise<void> {
    try {
      const h = this.#def?.health ? await this.#def.health(this.#state, this.#ctx) : null;
      this.#post({ type: 'health', requestId, health: h });
    } catch (err) {
      this.#post({ type: 'health', requestId, health: null, error: toWire(err) });
    }
  }

  #fatal(cause: CrashCause, err: unknown): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#post({ type: 'fatal', cause, error: toWire(err) });
  }

  /** `drop-oldest` at its bound: this message makes room for newer ones, unhandled. */
  #shed(env: Envelope): void {
    const err = new MailboxFullError(this.#boot.id, 'drop-oldest', 'the oldest message was shed to make room for a newer one');
    if (expectsReply(env.kind)) this.#sender.send({ kind: 'error', from: this.#boot.id, to: env.from, id: env.id, payload: toWire(err) }, 'reply');
    this.#deadLetter(env, err);
  }

  #undeliverable(env: Envelope, err: Error): void {
    if (expectsReply(env.kind) && env.from === this.#boot.id) this.#asks.reject(env.id, err);
    this.#deadLetter(env, err);
  }

  #deadLetter(env: Envelope, err: Error): void {
    this.#post({ type: 'dead-letter', letter: { kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, error: toWire(err) } });
  }

  #ask<R>(to: string, msg: unknown, options: AskOptions, topic: string | undefined, kind: EnvelopeKind = 'ask'): Promise<R> {
    const breaker = this.#endpoint.outboxIfReady(to, laneOf(options.priority))?.breaker;
    if (breaker?.enabled) return guarded(breaker, to, () => this.#askUnguarded<R>(to, msg, options, topic, kind));
    return this.#askUnguarded<R>(to, msg, options, topic, kind);
  }

  #askUnguarded<R>(to: string, msg: unknown, options: AskOptions, topic: string | undefined, kind: EnvelopeKind): Promise<R> {
    const { id, promise } = this.#asks.open<R>(to, options.timeout ?? this.#boot.askTimeoutMs);
    try {
      Atomics.add(this.#live.i32, MSGS_SENT, 1);
      this.#sender.send({ kind, from: this.#boot.id, to, id, payload: msg, priority: options.priority, topic });
    } catch (err) {
      this.#asks.reject(id, err as Error);
    }
    return promise;
  }

  #publish(subject: string, msg: unknown, options?: TellOptions): number {
    const to = this.#bus.match(subject, 'ctx.publish');
    const i32 = this.#live.i32;
    if (to.size === 0) {
      Atomics.add(i32, UNROUTED, 1);
      return 0;
    }
    Atomics.add(i32, PUBLISHED, 1);
    const from = this.#boot.id;
    const priority = options?.priority;
    for (const id of to) {
      Atomics.add(i32, MSGS_SENT, 1);
      try {
        this.#sender.send({ kind: 'tell', from, to: id, id: 0, payload: msg, topic: subject, priority });
      } catch (err) {
        // One subscriber refusing (`fail` mailbox, dead-lettered already) must not starve the rest.
        if (!(err instanceof MailboxFullError)) throw err;
      }
    }
    return to.size;
  }

  #post(m: HostToMain): void {
    this.#port.postMessage(m);
  }

  #makeContext(): ActorContext {
    const b = this.#boot;
    const config = (): unknown => this.#config;
    const current = (): Envelope | null => this.#current;
    return {
      self: b.id,
      system: b.system,
      incarnation: b.incarnation,
      get config() {
        return config();
      },
      log: this.#log,
      send: (to: string, msg: unknown, options?: TellOptions): void => {
        Atomics.add(this.#live.i32, MSGS_SENT, 1);
        this.#sender.send({ kind: 'tell', from: b.id, to, id: 0, payload: msg, priority: options?.priority });
      },
      ask: <R>(to: string, msg: unknown, options: AskOptions = {}): Promise<R> => this.#ask<R>(to, msg, options, undefined),
      proxy: <T>(to: string, options: AskOptions = {}) => makeProxy<T>((m) => this.#ask(to, m, options, undefined, 'call')),
      get topic() {
        return current()?.topic;
      },
      get from() {
        return current()?.from;
      },
      publish: (subject: string, msg: unknown, options?: TellOptions): number => this.#publish(subject, msg, options),
      subscribe: (pattern: string): void => {
        // Validated and applied here at once; the system table follows by the control port.
        if (this.#bus.add(pattern, b.id, 'ctx.subscribe')) this.#post({ type: 'subscribe', pattern });
      },
      unsubscribe: (pattern: string): void => {
        if (this.#bus.remove(pattern, b.id, 'ctx.unsubscribe')) this.#post({ type: 'unsubscribe', pattern });
      },
      request: <R>(subject: string, msg: unknown, options: AskOptions = {}): Promise<R> => {
        const to = [...this.#bus.match(subject, 'ctx.request')].filter((id) => id !== b.id);
        if (to.length === 0) return Promise.reject(new NoRespondersError(subject));
        return Promise.any(to.map((id) => this.#ask<R>(id, msg, options, subject))).catch((err: unknown) => {
          throw err instanceof AggregateError ? err.errors[0] : err;
        });
      },
      reply: (value: unknown): void => {
        const cur = this.#current;
        if (!cur || cur.kind !== 'ask' || this.#replied) return;
        this.#sendReply(cur, value);
      },
      stop: (reason = 'normal'): void => {
        this.#stop ??= { drain: false, reason };
      },
    };
  }
}
