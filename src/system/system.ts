import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { createLogger } from '../log/logger.js';
import { AskTable } from '../actor/asks.js';
import { DEFAULT_ASK_TIMEOUT_MS, DEFAULT_DEAD_LETTER_LIMIT, DEFAULT_INBOX_SENDER_SLOTS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SEND_TIMEOUT_MS, DEFAULT_SPIN_MICROS, MAX_TIMEOUT_MS } from '../defaults.js';
import type { AskOptions, TellOptions } from '../actor/define.js';
import { Sender, type OutboxSource } from '../actor/sender.js';
import { fromWire, toWire, type WireError } from '../actor/wire-error.js';
import { Codec, expectsReply, type Envelope } from '../codec/envelope.js';
import { ActorStoppedError, InvalidOptionError, InvalidTreeError, MailboxFullError, NoSuchActorError, type CrashCause, type OverflowPolicy } from '../errors.js';
import { Watchdog } from '../health/watchdog.js';
import { diffTrees, type TreeChange } from '../supervisor/diff.js';
import { Supervisor } from '../supervisor/runtime.js';
import { DEFAULT_CHILD_RING_BYTES, resolveDynamicChild, resolveTree, type ResolvedNode, type ResolvedSupervisorSpec, type TreeSpec } from '../supervisor/spec.js';
import { Inbox } from '../transport/inbox.js';
import { Outbox } from '../transport/outbox.js';
import type { Lane } from '../transport/protocol.js';
import { Wiring } from '../transport/wiring.js';
import { ActorCell, type CellState } from './cell.js';
import { EventHub, type ConfigEventInput, type DeadLetter, type EventOf, type SystemEvent, type SystemEventType } from './events.js';
import { retireRings } from './inbox-ops.js';
import { actorMetrics, aggregate, moduleHealth, type ActorMetrics, type SystemHealth } from './snapshot.js';
import { ActorRef } from './ref.js';
import type { CellServices } from './services.js';
import { Topics, type TopicHandler } from './topics.js';
import { PoolCell, type PoolStats } from '../pool/cell.js';
import { guarded, type BreakerState } from '../transport/breaker.js';
import type { Subscription } from '../bus/registry.js';
import { makeProxy, type Remote } from '../actor/rpc.js';

/** The main thread's own address on the data plane. */
export const SYSTEM_ID = '$system';
const SYSTEM_INBOX_SLOTS = 4096;

export interface SystemOptions {
  name: string;
  /** The root supervisor. */
  tree: TreeSpec;
  /** Relative `module` paths are resolved from here; default process.cwd(). */
  baseDir?: string;
  /** Level for the system and every actor (a child's `logLevel` overrides); pretty: human-readable lines (default: when stdout is a terminal). */
  log?: { level?: string; pretty?: boolean };
  maxMessageBytes?: number;
  /** Workers' spin budget before parking, µs. */
  spinMicros?: number;
  sendTimeoutMs?: number;
  /** Default timeout of `ask`, ms. */
  askTimeoutMs?: number;
  senderSlots?: number;
  deadLetterLimit?: number;
}

export interface ActorStatus {
  id: string;
  parent: string | null;
  kind: 'actor' | 'supervisor';
  state: CellState | 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  incarnation: number;
  restarts: number;
  inboxDepth: number;
  handled: number;
  /** Supervisors only: the strategy, and the restart intensity (`intensity` restarts per `periodMs`) with what is left of it now. */
  strategy?: string;
  restartBudgetLeft?: number;
  intensity?: number;
  periodMs?: number;
  /** Actors only: the spare worker of a `standby: true` child. */
  standby?: 'none' | 'booting' | 'ready';
  /** Actors only, once one has crashed: the latest crash. It concerns the current incarnation when `incarnation` matches. */
  lastCrash?: { incarnation: number; cause: CrashCause; reason: string; at: number };
  /** Actors with a `breaker`: its state as callers see it. */
  breaker?: BreakerState;
  /** Pool actors: threads, queue and task counts. */
  pool?: PoolStats;
}

type SystemState = 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * A running actor system: the supervision tree, every actor's worker, and the
 * main thread's own place on the data plane (for tells and asks from here).
 */
export class ActorSystem {
  readonly name: string;
  readonly log: Logger;
  readonly #opts: Required<Omit<SystemOptions, 'tree' | 'log' | 'baseDir'>> & { baseDir: string; logLevel: string; logPretty: boolean };
  readonly #wiring = new Wiring();
  readonly #codec: Codec;
  readonly #inbox: Inbox;
  readonly #outboxes = new Map<string, Outbox>();
  readonly #sender: Sender;
  readonly #asks = new AskTable();
  readonly #events = new EventHub();
  readonly #watchdog = new Watchdog();
  readonly #cells = new Map<string, ActorCell>();
  readonly #supervisors = new Map<string, Supervisor>();
  readonly #parents = new Map<string, string | null>();
  readonly #deadLetters: DeadLetter[] = [];
  readonly #deadLettersTo = new Map<string, number>();
  /** Messages dropped by each actor's mailbox overflow policy. */
  readonly #droppedTo = new Map<string, Partial<Record<OverflowPolicy, number>>>();
  #deadLetterCount = 0;
  #escalations = 0;
  #root!: Supervisor;
  #state: SystemState = 'starting';
  #stopping: Promise<void> | null = null;
  #stopReason = '';
  readonly #stopped: Promise<string>;
  #resolveStopped!: (reason: string) => void;
  readonly #svc: CellServices;
  readonly #topics: Topics;

  private constructor(options: SystemOptions) {
    if (typeof options?.name !== 'string' || options.name.length === 0) throw new InvalidOptionError('name', 'must be a non-empty string');
    this.name = options.name;
    this.#opts = {
      name: options.name,
      baseDir: options.baseDir ?? process.cwd(),
      logLevel: options.log?.level ?? 'info',
      logPretty: options.log?.pretty ?? process.stdout.isTTY === true,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      spinMicros: options.spinMicros ?? DEFAULT_SPIN_MICROS,
      sendTimeoutMs: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      askTimeoutMs: options.askTimeoutMs ?? DEFAULT_ASK_TIMEOUT_MS,
      senderSlots: options.senderSlots ?? DEFAULT_INBOX_SENDER_SLOTS,
      deadLetterLimit: options.deadLetterLimit ?? DEFAULT_DEAD_LETTER_LIMIT,
    };
    for (const k of ['askTimeoutMs', 'sendTimeoutMs'] as const) {
      const v = this.#opts[k];
      if (!(v > 0 && v <= MAX_TIMEOUT_MS)) throw new InvalidOptionError(k, `must be a number of ms from 1 to ${MAX_TIMEOUT_MS}, got ${v}`);
    }
    this.log = createLogger({ level: this.#opts.logLevel, pretty: this.#opts.logPretty, base: { system: this.name } });
    this.#codec = new Codec({ maxMessageBytes: this.#opts.maxMessageBytes });
    this.#stopped = new Promise((r) => (this.#resolveStopped = r));
    const desc = this.#wiring.register(SYSTEM_ID, { senderSlots: SYSTEM_INBOX_SLOTS, ringBytes: DEFAULT_CHILD_RING_BYTES });
    this.#inbox = new Inbox(desc.doorbell, { codec: this.#codec, spinMicros: 0 });
    this.#wiring.bindLocal(SYSTEM_ID, this.#inbox);
    this.#sender = new Sender(this.#localSource(), this.#codec, (env, err) => this.#undeliverable(env, err), this.#opts.sendTimeoutMs);
    this.#topics = new Topics({
      self: SYSTEM_ID,
      send: (env) => this.#sender.send(env),
      ask: (to, msg, options, topic) => this.#ask(to, msg, options, topic),
      broadcast: (change) => {
        for (const cell of this.#cells.values()) cell.post({ type: 'bus-change', change });
      },
      reply: (to, value, error) => {
        const env: Envelope = error
          ? { kind: 'error', from: SYSTEM_ID, to: to.from, id: to.id, payload: toWire(error) }
          : { kind: 'reply', from: SYSTEM_ID, to: to.from, id: to.id, payload: value };
        try {
          this.#sender.send(env, 'reply');
        } catch (err) {
          this.#sender.send({ kind: 'error', from: SYSTEM_ID, to: to.from, id: to.id, payload: toWire(err) }, 'reply');
        }
      },
      onError: (err, subject) => this.log.error({ err, subject }, 'topic handler threw'),
    });
    this.#svc = this.#services();
  }

  /**
   * Publish `msg` on `subject` to every subscriber (actors and main-thread
   * handlers). Returns how many it reached; 0 is counted as unrouted.
   */
  publish(subject: string, msg: unknown, options?: TellOptions): number {
    return this.#topics.publish(subject, msg, options);
  }

  /** Handle, on the main thread, what is published on subjects matching `pattern`; returns the unsubscribe function. */
  subscribe<T = unknown>(pattern: string, handler: TopicHandler<T>): () => void {
    return this.#topics.subscribe(pattern, handler);
  }

  /** Ask the subscribers of `subject` and settle with the first answer (NoRespondersError if there are none). */
  request<R = unknown>(subject: string, msg: unknown, options?: AskOptions): Promise<R> {
    return this.#topics.request<R>(subject, msg, options);
  }

  /**
   * A typed proxy to actor `id`'s `api`: `await system.proxy<RiskApi>('risk').check(order)`.
   * Each call is an ask over the rings (comlink's protocol, not postMessage),
   * settled by the answer, the method's error, or the ask's timeout/crash errors.
   */
  proxy<T>(id: string, options: AskOptions = {}): Remote<T> {
    return makeProxy<T>((m) => this.#ask(id, m, options, undefined, 'call'));
  }

  /** Every topic subscription: pattern and subscriber (an actor id, or '$system'). */
  subscriptions(): Subscription[] {
    return this.#topics.list();
  }

  /** Validate the tree, start every actor in dependency order, and resolve once all are ready. */
  static async start(options: SystemOptions): Promise<ActorSystem> {
    const spec = resolveTree(options?.tree);
    const system = new ActorSystem(options);
    system.#root = system.#build(spec, null);
    system.#root.onExit = (info) => void system.stop(info.normal ? info.reason : `escalated: ${info.reason}`);
    void system.#pump();
    try {
      await system.#root.start();
    } catch (err) {
      await system.stop(`start failed: ${(err as Error).message}`);
      throw err;
    }
    system.#state = 'running';
    return system;
  }

  ref<Msg = unknown>(id: string): ActorRef<Msg> {
    return new ActorRef<Msg>(id, { tell: (to, msg, o) => this.#tell(to, msg, o), ask: (to, msg, o) => this.#ask(to, msg, o) });
  }

  /** Add a child to supervisor `parentId` while running. For simple_one_for_one, pass `{ id, config? }`. */
  async spawn<Msg = unknown>(parentId: string, childSpec: unknown): Promise<ActorRef<Msg>> {
    const sup = this.#supervisors.get(parentId);
    if (!sup) throw new NoSuchActorError(parentId, 'spawn');
    const ids = new Set([...this.#cells.keys(), ...this.#supervisors.keys()]);
    const spec = resolveDynamicChild(childSpec, sup.spec, ids);
    const cell = this.#cell(spec, parentId);
    try {
      await sup.spawn(cell);
    } catch (err) {
      this.#forget(spec.id); // the id is free again for a corrected spawn
      throw err;
    }
    return this.ref<Msg>(spec.id);
  }

  /** Graceful stop: each actor drains its inbox, stops in reverse start order; every pending ask settles. */
  stop(reason = 'shutdown'): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  /** Resolves with the reason once the system has stopped (by stop(), or an escalation at the root). */
  whenStopped(): Promise<string> {
    return this.#stopped;
  }

  events(): AsyncIterableIterator<SystemEvent> {
    return this.#events.iterate();
  }

  on<T extends SystemEventType>(type: T | '*', listener: (e: EventOf<T>) => void): () => void {
    return this.#events.on(type, listener);
  }

  /**
   * For a configuration layer (ConfigManager): put a reload's outcome on the
   * event stream as `config-applied` or `config-rejected`. The system itself
   * does not read config files, so it cannot tell a rejected file by itself.
   */
  reportConfig(event: ConfigEventInput): void {
    if (event?.type !== 'config-applied' && event?.type !== 'config-rejected') throw new InvalidOptionError('event.type', "must be 'config-applied' or 'config-rejected'");
    this.#events.emit({ ...event });
  }

  status(): ActorStatus[] {
    const out: ActorStatus[] = [];
    const visit = (node: Supervisor): void => {
      out.push({
        id: node.id,
        parent: this.#parents.get(node.id) ?? null,
        kind: 'supervisor',
        state: node.state,
        incarnation: 0,
        restarts: 0,
        inboxDepth: 0,
        handled: 0,
        strategy: node.spec.strategy,
        restartBudgetLeft: node.remainingRestarts(),
        intensity: node.spec.intensity,
        periodMs: node.spec.periodMs,
      });
      for (const c of node.children) {
        if (c instanceof Supervisor) visit(c);
        else if (c instanceof ActorCell) {
          out.push({
            id: c.id,
            parent: node.id,
            kind: 'actor',
            state: c.state,
            incarnation: c.incarnation,
            restarts: c.restarts,
            inboxDepth: c.inboxDepth(),
            handled: c.handled(),
            standby: c.standbyState(),
            ...(c.lastCrash ? { lastCrash: { ...c.lastCrash } } : {}),
            ...(c.breaker.enabled ? { breaker: c.breaker.state } : {}),
            ...(c instanceof PoolCell ? { pool: c.stats() } : {}),
          });
        }
      }
    };
    if (this.#root) visit(this.#root);
    return out;
  }

  deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters.slice();
  }

  get deadLetterCount(): number {
    return this.#deadLetterCount;
  }

  get state(): SystemState {
    return this.#state;
  }

  /** The supervision tree as it runs now: defaults filled in, dynamic children and applied changes included. */
  get tree(): ResolvedSupervisorSpec {
    return this.#snapshot(this.#root);
  }

  /**
   * Turn the running tree into `raw` (hot reload). The new tree is validated
   * as a whole first (InvalidTreeError, nothing applied). Then: removed nodes
   * stop (newest first); a changed `config` reaches the actor's `configure`
   * hook and a changed `logLevel` its logger, without a restart; any other
   * changed child field restarts that child under its supervisor; changed
   * supervisor fields apply in place; added nodes start in start order.
   */
  async applyTree(raw: unknown): Promise<TreeChange[]> {
    if (this.#state !== 'running') throw new ActorStoppedError(SYSTEM_ID, `cannot change the tree: the system is ${this.#state}`);
    const next = resolveTree(raw);
    const current = this.tree;
    if (next.id !== current.id) {
      throw new InvalidTreeError([{ path: 'tree.id', message: `the root cannot be renamed while running ('${current.id}' → '${next.id}')` }]);
    }
    const changes = diffTrees(current, next);
    for (const ch of changes) await this.#apply(ch);
    return changes;
  }

  async #apply(ch: TreeChange): Promise<void> {
    switch (ch.kind) {
      case 'remove':
        await this.#supervisors.get(ch.parent)!.removeChild(ch.id);
        this.#forget(ch.id);
        return;
      case 'configure':
        await this.#cells.get(ch.id)!.configure(ch.config, this.#opts.askTimeoutMs);
        return;
      case 'log-level':
        this.#cells.get(ch.id)!.setLogLevel(ch.level);
        return;
      case 'restart': {
        const cell = this.#cells.get(ch.id)!;
        const was = new Set(cell.spec.subscribe);
        const now = new Set(ch.spec.subscribe);
        for (const p of was) if (!now.has(p)) this.#topics.table.unsubscribe(ch.id, p);
        for (const p of now) if (!was.has(p)) this.#topics.table.subscribe(ch.id, p);
        cell.replaceSpec(ch.spec, this.#moduleUrl(ch.spec.module));
        await this.#parentOf(ch.id).restartChild(ch.id);
        return;
      }
      case 'supervisor':
        this.#supervisors.get(ch.id)!.updateSpec(ch.spec);
        return;
      case 'add': {
        const child = ch.node.kind === 'supervisor' ? this.#build(ch.node, ch.parent) : this.#cell(ch.node, ch.parent);
        await this.#supervisors.get(ch.parent)!.spawn(child);
        return;
      }
    }
  }

  #forget(id: string): void {
    const sup = this.#supervisors.get(id);
    if (sup) for (const c of sup.children) this.#forget(c.id);
    this.#supervisors.delete(id);
    this.#cells.delete(id);
    this.#topics.table.removeSubscriber(id);
    this.#parents.delete(id);
  }

  #snapshot(sup: Supervisor): ResolvedSupervisorSpec {
    return { ...sup.spec, children: sup.children.map((c) => (c instanceof Supervisor ? this.#snapshot(c) : (c as ActorCell).spec)) };
  }

  #moduleUrl(module: string): string {
    return module.startsWith('file:') ? module : pathToFileURL(isAbsolute(module) ? module : resolve(this.#opts.baseDir, module)).href;
  }

  /** Counters of every actor and of the system, read without asking any worker. */
  metrics(): {
    actors: ActorMetrics[];
    actorsByState: Record<string, number>;
    escalations: number;
    deadLetters: number;
    /** The main thread's own publishes, and how many subscriptions the system has. */
    topics: { published: number; unrouted: number; subscriptions: number };
  } {
    const actors = [...this.#cells.values()].map((c) => actorMetrics(c, this.#deadLettersTo.get(c.id) ?? 0, this.#droppedTo.get(c.id) ?? {}));
    const actorsByState: Record<string, number> = {};
    for (const a of actors) actorsByState[a.state] = (actorsByState[a.state] ?? 0) + 1;
    const topics = { published: this.#topics.published, unrouted: this.#topics.unrouted, subscriptions: this.#topics.table.size };
    return { actors, actorsByState, escalations: this.#escalations, deadLetters: this.#deadLetterCount, topics };
  }

  /** Health of every actor (its `health` hook when running) and of the system, in one report. */
  async health(timeoutMs = 1000): Promise<SystemHealth> {
    const cells = [...this.#cells.values()].filter((c) => !(c.retired && c.restart === 'temporary'));
    const modules = await Promise.all(cells.map((c) => moduleHealth(c, timeoutMs)));
    return aggregate(modules, cells, this.#state !== 'running');
  }

  /** True once every actor has started (and the system is not stopping). */
  ready(): boolean {
    return this.#state === 'running' && [...this.#cells.values()].every((c) => c.state === 'running' || c.retired);
  }

  /** An operator's restart of one actor (or supervisor subtree): graceful stop, then start; not a crash. */
  async restartActor(id: string): Promise<void> {
    await this.#parentOf(id).restartChild(id);
  }

  /** Stop one actor for good (until restarted): its unread mail is dead-lettered. */
  async stopActor(id: string): Promise<void> {
    await this.#parentOf(id).terminateChild(id);
  }

  #parentOf(id: string): Supervisor {
    if (id === this.#root.id) throw new InvalidOptionError(`actor '${id}'`, 'is the root supervisor: stop the system instead');
    const parent = this.#parents.get(id);
    const sup = parent ? this.#supervisors.get(parent) : undefined;
    if (!sup) throw new NoSuchActorError(id, 'control');
    return sup;
  }

  /** Internal: the live cell of actor `id` (health, configuration and tests use it). */
  cell(id: string): ActorCell | undefined {
    return this.#cells.get(id);
  }

  #build(spec: ResolvedNode, parent: string | null): Supervisor {
    if (spec.kind !== 'supervisor') throw new InvalidOptionError('tree', 'root must be a supervisor');
    const sup = new Supervisor(spec, (e) => {
      if (e.type === 'escalated') {
        this.#escalations++;
        this.log.error({ supervisor: e.supervisor, reason: e.reason }, 'supervisor escalated');
      }
      this.#events.emit({ ...e });
    });
    this.#supervisors.set(spec.id, sup);
    this.#parents.set(spec.id, parent);
    for (const child of spec.children) {
      sup.adopt(child.kind === 'supervisor' ? this.#build(child, spec.id) : this.#cell(child, spec.id));
    }
    return sup;
  }

  #cell(spec: ResolvedNode & { kind: 'child' }, parent: string): ActorCell {
    const cell = spec.pool ? new PoolCell(spec, parent, this.#moduleUrl(spec.module), this.#svc) : new ActorCell(spec, parent, this.#moduleUrl(spec.module), this.#svc);
    this.#cells.set(spec.id, cell);
    this.#parents.set(spec.id, parent);
    for (const p of spec.subscribe) this.#topics.table.subscribe(spec.id, p, `tree child '${spec.id}' subscribe`);
    return cell;
  }

  #tell(to: string, msg: unknown, options?: TellOptions): void {
    const env: Envelope = { kind: 'tell', from: SYSTEM_ID, to, id: 0, payload: msg, priority: options?.priority };
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      this.#deadLetter({ kind: 'tell', from: SYSTEM_ID, to, id: 0, payload: msg, reason: `system is ${this.#state}` });
      return;
    }
    this.#sender.send(env);
  }

  #ask<R>(to: string, msg: unknown, options: AskOptions = {}, topic?: string, kind: 'ask' | 'call' = 'ask'): Promise<R> {
    const breaker = this.#cells.get(to)?.breaker;
    if (breaker?.enabled) return guarded(breaker, to, () => this.#askUnguarded<R>(to, msg, options, topic, kind));
    return this.#askUnguarded<R>(to, msg, options, topic, kind);
  }

  #askUnguarded<R>(to: string, msg: unknown, options: AskOptions, topic: string | undefined, kind: 'ask' | 'call'): Promise<R> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return Promise.reject(new ActorStoppedError(to, `cannot be asked: the system is ${this.#state}`));
    const cell = this.#cells.get(to);
    if (!cell) return Promise.reject(new NoSuchActorError(to, 'ask'));
    if (cell.retired) return Promise.reject(new ActorStoppedError(to, `is stopped for good (${cell.lastExit?.reason ?? 'retired'})`));
    const { id, promise } = this.#asks.open<R>(to, options.timeout ?? this.#opts.askTimeoutMs);
    try {
      this.#sender.send({ kind, from: SYSTEM_ID, to, id, payload: msg, priority: options.priority, topic });
    } catch (err) {
      this.#asks.reject(id, err as Error);
    }
    return promise;
  }

  /** Read the main thread's inbox (replies to its asks) until the system stops, without blocking the loop. */
  async #pump(): Promise<void> {
    const onReply = (env: Envelope): void => {
      if (env.kind === 'reply') this.#asks.resolve(env.id, env.payload, env.from);
      else if (env.kind === 'error') this.#asks.reject(env.id, fromWire(env.payload as WireError));
    };
    const onMail = (env: Envelope): void => {
      if (this.#topics.deliver(env)) return;
      this.#deadLetter({ kind: env.kind, from: env.from, to: SYSTEM_ID, id: env.id, payload: env.payload, reason: 'the system takes no mail' });
      if (expectsReply(env.kind)) this.#settleAsk(env.from, env.id, new NoSuchActorError(SYSTEM_ID, 'ask'));
    };
    while (this.#state !== 'stopped') {
      this.#inbox.drainReplies(onReply);
      this.#inbox.drainMail(Infinity, onMail);
      await this.#inbox.waitForWorkAsync(1000);
    }
  }

  #localSource(): OutboxSource {
    const get = (to: string, lane: Lane): Outbox | Error => {
      const key = `${lane}\u0000${to}`;
      let out = this.#outboxes.get(key);
      if (out) return out;
      if (!this.#wiring.switchboard.has(to)) return new NoSuchActorError(to);
      try {
        out = new Outbox(this.#wiring.switchboard.connect(SYSTEM_ID, to, lane), this.#codec);
      } catch (err) {
        return err as Error; // e.g. the inbox has no sender slot left: a dead letter, not a throw from tell()
      }
      this.#outboxes.set(key, out);
      return out;
    };
    return {
      outboxIfReady: (to, lane) => {
        const out = get(to, lane);
        return out instanceof Error ? undefined : out;
      },
      outbox: (to, lane) => {
        const out = get(to, lane);
        return out instanceof Error ? Promise.reject(out) : Promise.resolve(out);
      },
    };
  }

  #undeliverable(env: Envelope, err: Error): void {
    if (expectsReply(env.kind) && env.from === SYSTEM_ID) this.#asks.reject(env.id, err);
    this.#deadLetter({ kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, reason: err.message, ...(err instanceof MailboxFullError ? { dropped: err.policy } : {}) });
  }

  #deadLetter(letter: Omit<DeadLetter, 'at'>): void {
    const full: DeadLetter = { ...letter, at: Date.now() };
    this.#deadLetterCount++;
    this.#deadLettersTo.set(letter.to, (this.#deadLettersTo.get(letter.to) ?? 0) + 1);
    if (letter.dropped) {
      let d = this.#droppedTo.get(letter.to);
      if (!d) this.#droppedTo.set(letter.to, (d = {}));
      d[letter.dropped] = (d[letter.dropped] ?? 0) + 1;
    }
    this.#deadLetters.push(full);
    if (this.#deadLetters.length > this.#opts.deadLetterLimit) this.#deadLetters.shift();
    this.log.warn({ to: letter.to, from: letter.from, kind: letter.kind, reason: letter.reason }, 'dead letter');
    this.#events.emit({ type: 'dead-letter', letter: full });
  }

  #settleAsk(asker: string, askId: number, err: Error): void {
    if (asker === SYSTEM_ID) {
      this.#asks.reject(askId, err);
      return;
    }
    this.#cells.get(asker)?.post({ type: 'settle-ask', askId, error: toWire(err) });
  }

  #services(): CellServices {
    return {
      systemName: this.name,
      wiring: this.#wiring,
      hostUrl: new URL('../../workers/actor-host.js', import.meta.url),
      poolWorkerUrl: new URL('../../workers/pool-worker.js', import.meta.url),
      replyFromMain: (env) => {
        if (env.to === SYSTEM_ID) {
          if (env.kind === 'reply') this.#asks.resolve(env.id, env.payload, env.from);
          else this.#asks.reject(env.id, fromWire(env.payload as WireError));
          return;
        }
        try {
          this.#sender.send(env, 'reply');
        } catch (err) {
          this.#sender.send({ ...env, kind: 'error', payload: toWire(err) }, 'reply');
        }
      },
      codec: this.#codec,
      watchdog: this.#watchdog,
      logLevel: this.#opts.logLevel,
      logPretty: this.#opts.logPretty,
      maxMessageBytes: this.#opts.maxMessageBytes,
      spinMicros: this.#opts.spinMicros,
      sendTimeoutMs: this.#opts.sendTimeoutMs,
      askTimeoutMs: this.#opts.askTimeoutMs,
      senderSlots: this.#opts.senderSlots,
      emit: (e) => {
        this.#events.emit(e);
        if (e.type === 'crashed') this.log.warn({ actor: e.actor, incarnation: e.incarnation, cause: e.cause, reason: e.reason }, 'actor crashed');
      },
      deadLetter: (letter: Omit<DeadLetter, 'at'>, _error?: WireError | Error) => this.#deadLetter(letter),
      settleAsk: (asker, askId, err) => this.#settleAsk(asker, askId, err),
      subscriptions: () => this.#topics.list(),
      subscribe: (actor, pattern) => {
        try {
          this.#topics.table.subscribe(actor, pattern, `actor '${actor}' ctx.subscribe`);
        } catch (err) {
          this.log.error({ actor, pattern, err }, 'refused a subscription');
        }
      },
      unsubscribe: (actor, pattern) => void this.#topics.table.unsubscribe(actor, pattern),
      retireInbox: (actor, err) => {
        this.#wiring.switchboard.setClosed(actor, true);
        retireRings(this.#svc, actor, this.#wiring.switchboard.describe(actor).rings, err);
      },
    };
  }

  async #shutdown(reason: string): Promise<void> {
    this.#state = 'stopping';
    this.#stopReason = reason;
    this.log.info({ reason }, 'system stopping');
    if (this.#root) {
      await this.#root.stop(reason, true);
      for (const cell of this.#cells.values()) cell.retire(reason);
    }
    this.#asks.rejectAll((actor) => new ActorStoppedError(actor, `did not answer: the system stopped (${reason})`));
    this.#watchdog.close();
    this.#state = 'stopped';
    this.#inbox.doorbell.wake();
    this.#events.emit({ type: 'system-stopped', reason });
    this.#events.close();
    this.log.info({ reason, deadLetters: this.#deadLetterCount }, 'system stopped');
    this.#resolveStopped(this.#stopReason);
  }
}
