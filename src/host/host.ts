import type { Logger } from 'pino';
import type { ActorContext, DefinedActor } from '../actor/define.js';
import { errorEnvelope } from '../actor/reply.js';
import { ApiServer, callApi, callFailure } from '../actor/rpc.js';
import type { TerminatedNotice } from '../actor/watch.js';
import { toWire } from '../actor/wire-error.js';
import { replicaOf } from '../bus/registry.js';
import type { SubjectTrie } from '../bus/trie.js';
import { Codec, expectsReply, type Envelope, type EnvelopeHeader } from '../codec/envelope.js';
import { undecodableError } from '../transport/decoding.js';
import { MailboxFullError, ModuleLoadError, type CrashCause, type DecodeError } from '../errors.js';
import { ActorState, F64_BUSY_SINCE, IN_FLIGHT_PHASE, InFlightPhase, Liveness, MSGS_FINISHED, MSGS_STARTED, STATE } from '../liveness/liveness.js';
import { RecorderWriter } from '../liveness/recorder.js';
import { lazyLogger } from '../log/logger.js';
import { SpinBudget } from '../ring/spin-budget.js';
import { Endpoint, type ControlPort } from '../transport/endpoint.js';
import { HeapSampler, loadActor } from './boot.js';
import { notPersistent, openPersister } from './persisting.js';
import type { Persister } from '../persistence/persister.js';
import { makeContext } from './context.js';
import { HostWatches } from './watching.js';
import { onControl, type Controlled } from './control.js';
import { Outgoing } from './outgoing.js';
import type { HostBoot, HostToMain, MainToHost } from './protocol.js';
import type { MessageTracer } from '../trace/tracing.js';

/** A parked host sleeps until woken (senders, a stop request, a settled handler); a timeout would cost ~4 µs of CPU a park. */
const PARK_MS = Infinity;
/** Handlers run back to back before the host yields to its event loop (timers, control messages). */
const YIELD_EVERY_MSGS = 64;
const YIELD_EVERY_MS = 5;
/** Microtask turns a promise-returning handler gets before the host parks for it: one that waits on nothing is done by then (a park costs a wake-up). */
const MICROTASK_TURNS = 16;
/** Read once: epoch ms of this thread's performance.now() zero (a getter call per message otherwise). */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * The worker side of one actor incarnation: load the module, run `init`,
 * then handle mail one message at a time until stopped or crashed.
 */
export class Host {
  readonly #boot: HostBoot;
  readonly #port: ControlPort;
  readonly #live: Liveness;
  /** The flight recorder: the last messages' metadata, in memory the main thread reads after a crash. */
  readonly #rec: RecorderWriter | null;
  readonly #endpoint: Endpoint;
  readonly #out: Outgoing;
  readonly #log: Logger;
  /** This thread's copy of the system's topic subscriptions. */
  readonly #bus: SubjectTrie<string>;
  #def: DefinedActor | null = null;
  #api: ApiServer | null = null;
  #watches: HostWatches | null = null;
  #persister: Persister<unknown> | null = null;
  #state: unknown;
  #ctx!: ActorContext;
  #config: unknown;
  #current: Envelope | null = null;
  #replied = false;
  #dead = false;
  #stop: { drain: boolean; reason: string } | null = null;
  #heap!: HeapSampler;
  readonly #onReply = (env: Envelope): void => this.#out.settle(env);
  /** The span of each handled message; null while tracing is off (one comparison a message). */
  #tracer: MessageTracer | null = null;
  /** The user's handler for `env`: one function for the host's life, so a traced message passes it on without a closure. */
  readonly #invoke = (env: Envelope): unknown => {
    const def = this.#def!;
    if (env.kind === 'call') return callApi(this.#api, this.#boot.id, env);
    if (env.kind === 'terminated') return this.#watches!.deliver(env.payload as TerminatedNotice, def, this.#state, this.#ctx);
    if (env.topic !== undefined && def.onTopic) return def.onTopic(this.#state, env.payload as never, this.#ctx as ActorContext & { topic: string });
    return def.receive(this.#state, env.payload, this.#ctx);
  };

  constructor(boot: HostBoot, port: ControlPort) {
    this.#boot = boot;
    this.#port = port;
    this.#config = boot.config;
    this.#bus = replicaOf(boot.subscriptions ?? []);
    this.#live = new Liveness(boot.liveness);
    this.#rec = boot.recorder ? new RecorderWriter(boot.recorder, boot.incarnation) : null;
    const mixin = boot.tracing ? () => this.#tracer?.logFields() ?? {} : undefined;
    this.#log = lazyLogger({ level: boot.logLevel, pretty: boot.logPretty, base: { system: boot.system, actor: boot.id, incarnation: boot.incarnation }, mixin });
    const codec = new Codec({ maxMessageBytes: boot.maxMessageBytes });
    this.#endpoint = new Endpoint(port, boot.inbox, {
      codec,
      spinMicros: boot.spin.micros,
      adaptiveSpin: boot.spin.adaptive,
      spinBudget: boot.spin.budget ? new SpinBudget(boot.spin.budget) : null,
      onUndecodable: (_slot, err, raw, header) => this.#undecodable(err, raw, header),
      onRingCorrupt: (slot, err) => this.#log.error({ slot, err }, 'inbox ring corrupt; sender detached'),
      onShed: (env) => this.#shed(env),
    });
    this.#out = new Outgoing({
      self: boot.id,
      endpoint: this.#endpoint,
      codec,
      bus: this.#bus,
      counters: this.#live.i32,
      askTimeoutMs: boot.askTimeoutMs,
      sendTimeoutMs: boot.sendTimeoutMs,
      deadLetter: (env, err) => this.#deadLetter(env, err),
    });
    const controlled = this.#controlled();
    port.on('message', (m) => onControl(m as MainToHost, controlled));
  }

  /** Dead-letter a frame that cannot be decoded, naming its sender, and settle whoever awaits it. */
  #undecodable(err: DecodeError, raw: Uint8Array, header: EnvelopeHeader | null): void {
    const e = undecodableError(this.#boot.id, err, header);
    this.#deadLetter({ kind: header?.kind ?? 'tell', from: header?.from ?? '?', to: this.#boot.id, id: header?.id ?? 0, payload: raw }, e);
    if (header) this.#out.undecodable(header, e);
  }

  async run(): Promise<void> {
    const b = this.#boot;
    this.#heap = new HeapSampler(this.#live);
    process.on('unhandledRejection', (reason) => this.#fatal('unhandled-rejection', reason));
    if (b.tracing) this.#tracer = await (await import('../trace/tracing.js')).startTracing(b.tracing, { actor: b.id, incarnation: b.incarnation });
    const def = await loadActor(b);
    if (def instanceof ModuleLoadError) {
      this.#fatal('module', def);
      return;
    }
    this.#def = def;
    this.#watches = new HostWatches(b.id, b.incarnation, def, (m) => this.#post(m));
    this.#ctx = makeContext({
      boot: b,
      watches: this.#watches,
      log: this.#log,
      out: this.#out,
      bus: this.#bus,
      config: () => this.#config,
      current: () => this.#current,
      redelivered: () => this.#live.redelivered,
      reply: (value) => {
        const cur = this.#current;
        if (!cur || cur.kind !== 'ask' || this.#replied) return;
        const p = this.#persister;
        if (!p?.busy) return this.#answer(cur, value);
        // What the handler persisted first: the answer goes once it is durable (never, if the write fails).
        this.#replied = true;
        void p.idle().then(() => {
          if (!this.#dead) this.#out.answer(cur, value);
        });
      },
      stop: (reason) => void (this.#stop ??= { drain: false, reason }),
      post: (m) => this.#post(m),
      persist: (events) => (this.#persister ? this.#persister.persist(events) : Promise.reject(notPersistent(b.id, def.persistence !== undefined))),
      snapshot: () => (this.#persister ? this.#persister.snapshot() : Promise.reject(notPersistent(b.id, def.persistence !== undefined))),
    });
    try {
      // An init may ask other actors: keep reading replies while it runs.
      this.#state = await this.#withReplies(Promise.resolve().then(() => this.#def!.init(this.#ctx)));
      if (def.persistence) {
        // Recovery: the latest snapshot, then the events after it, before any message.
        this.#persister = openPersister(b, def.persistence, this.#ctx, (err) => this.#fatal('exception', err));
        this.#state = (await this.#persister.recover(this.#state)).state;
      }
    } catch (err) {
      this.#fatal('init', err);
      return;
    }
    try {
      const api = this.#def.api?.(this.#state, this.#ctx);
      if (api !== undefined) this.#api = new ApiServer(api, this.#def.apiErrors);
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
    const sender = this.#out.sender;
    let sinceYield = 0;
    let yieldAt = performance.now() + YIELD_EVERY_MS;
    while (!this.#dead) {
      inbox.drainReplies(this.#onReply);
      if (this.#stop && !this.#stop.drain) break;
      const env = inbox.nextMail();
      if (env) {
        const r = this.#handle(env);
        if (r !== undefined) await this.#withReplies(r);
        // A message is done once what it sent is in the receivers' rings: were the
        // actor to crash on a later message, those sends must not be lost with this thread's queue.
        if (sender.queued > 0) await sender.idle();
        if (this.#dead) return;
        this.#live.release(inbox);
        if (++sinceYield >= YIELD_EVERY_MSGS || performance.now() > yieldAt) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sinceYield = 0;
          yieldAt = performance.now() + YIELD_EVERY_MS;
          this.#heap.sample(yieldAt);
        }
        continue;
      }
      if (this.#stop) break; // draining, and the inbox is empty
      this.#heap.sample(performance.now());
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
    let settled = false;
    const done = pending.finally(() => {
      settled = true;
      inbox.doorbell.wake();
    });
    // Its rejection is taken below, after the loop: until then it must not count as unhandled.
    done.catch(() => {});
    for (let i = 0; i < MICROTASK_TURNS && !settled; i++) await undefined;
    while (!settled) {
      inbox.drainReplies(this.#onReply);
      if (settled) break;
      await inbox.waitForRepliesAsync(PARK_MS);
    }
    return done;
  }

  /** Handle one message; returns a promise only when the handler is async. */
  #handle(env: Envelope): Promise<void> | undefined {
    const i32 = this.#live.i32;
    Atomics.store(i32, STATE, ActorState.busy);
    this.#live.take(this.#endpoint.inbox.inFlightSlot, this.#endpoint.inbox.inFlightPos);
    const started = TIME_ORIGIN + performance.now();
    this.#live.f64[F64_BUSY_SINCE] = started;
    this.#rec?.begin(env.kind, env.priority, env.from, env.topic, this.#endpoint.inbox.inFlightBytes, started, env.payload);
    i32[MSGS_STARTED]!++; // this thread is the counter's only writer: a plain store, read with Atomics.load
    this.#current = env;
    this.#replied = false;
    let result: unknown;
    try {
      result = this.#tracer === null ? this.#invoke(env) : this.#tracer.run(env, this.#invoke, undefined, env.kind === 'call' ? callFailure : undefined);
    } catch (err) {
      this.#fatal('exception', err);
      return undefined;
    }
    const p = this.#persister;
    if (p !== null && (p.busy || result instanceof Promise)) {
      // A persistent actor's answer (and its next message) waits for what the handler persisted.
      return Promise.resolve(result).then(
        async (v) => {
          if (p.busy) await p.idle();
          if (!this.#dead) this.#done(env, v, started);
        },
        (err) => this.#fatal('exception', err),
      );
    }
    if (result instanceof Promise) {
      // Every other async handler: one `then`, no extra promise per message.
      return result.then(
        (v) => this.#done(env, v, started),
        (err) => this.#fatal('exception', err),
      );
    }
    this.#done(env, result, started);
    return undefined;
  }

  #done(env: Envelope, value: unknown, started: number): void {
    if (this.#persister) this.#state = this.#persister.state;
    if (expectsReply(env.kind) && !this.#replied) this.#answer(env, value);
    this.#current = null;
    const i32 = this.#live.i32;
    const ms = TIME_ORIGIN + performance.now() - started;
    this.#live.recordHandler(ms);
    this.#rec?.end(ms);
    this.#live.f64[F64_BUSY_SINCE] = 0;
    Atomics.store(i32, IN_FLIGHT_PHASE, InFlightPhase.flushing); // in flight until released (#loop)
    i32[MSGS_FINISHED]!++;
    Atomics.store(i32, STATE, this.#stop ? ActorState.stopping : ActorState.idle);
  }

  #answer(to: Envelope, value: unknown): void {
    this.#replied = true;
    this.#out.answer(to, value);
  }

  async #finish(): Promise<void> {
    const stop = this.#stop!;
    Atomics.store(this.#live.i32, STATE, ActorState.stopping);
    try {
      await this.#withReplies(Promise.resolve().then(() => this.#def!.stop?.(this.#state, this.#ctx)));
    } catch (err) {
      this.#log.error({ err }, 'stop hook threw');
    }
    await this.#out.sender.idle(); // replies and tells still waiting for a ring go out first
    if (this.#persister) {
      await this.#persister.idle();
      await this.#persister.close();
    }
    Atomics.store(this.#live.i32, STATE, ActorState.stopped);
    this.#post({ type: 'stopped', reason: stop.reason });
  }

  /** This incarnation as the control messages of the main thread act on it. */
  #controlled(): Controlled {
    return {
      actor: () => ({ def: this.#def, state: this.#state, ctx: this.#ctx }),
      log: this.#log,
      bus: this.#bus,
      asks: this.#out.asks,
      setConfig: (config) => void (this.#config = config),
      requestStop: (drain) => {
        this.#stop ??= { drain, reason: 'shutdown' };
        this.#endpoint.inbox.doorbell.wake();
      },
      post: (m) => this.#post(m),
    };
  }

  #fatal(cause: CrashCause, err: unknown): void {
    if (this.#dead) return;
    this.#dead = true;
    // Events queued by the failed handler and not yet written are not written: the crash decides, not a race with terminate.
    this.#persister?.abandon();
    this.#post({ type: 'fatal', cause, error: toWire(err) });
  }

  /** `drop-oldest` at its bound: this message makes room for newer ones, unhandled. */
  #shed(env: Envelope): void {
    const err = new MailboxFullError(this.#boot.id, 'drop-oldest', 'the oldest message was shed to make room for a newer one');
    if (expectsReply(env.kind)) this.#out.sender.send(errorEnvelope(env, this.#boot.id, err), 'reply');
    this.#deadLetter(env, err);
  }

  #deadLetter(env: Envelope, err: Error): void {
    this.#post({ type: 'dead-letter', letter: { kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, error: toWire(err) } });
  }

  #post(m: HostToMain): void {
    this.#port.postMessage(m);
  }
}
