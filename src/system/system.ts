import type { Logger } from 'pino';
import type { AskOptions, TellOptions } from '../actor/define.js';
import { makeProxy, type Remote } from '../actor/rpc.js';
import type { Subscription } from '../bus/registry.js';
import { ActorCell } from '../cell/actor-cell.js';
import type { CellFactory, ChildCell } from '../cell/contract.js';
import { Codec } from '../codec/envelope.js';
import { holdTracing } from '../trace/tracing.js';
import { ActorStoppedError, InvalidOptionError, NoSuchActorError } from '../errors.js';
import type { AlertEventInput, ConfigEventInput, DeadLetter, EventInput, EventOf, SystemEvent, SystemEventType } from '../events.js';
import { Watchdog } from '../health/watchdog.js';
import { createLogger } from '../log/logger.js';
import { PoolCell } from '../pool/cell.js';
import type { TreeChange } from '../supervisor/diff.js';
import { resolveDynamicChild, resolveTree } from '../supervisor/resolve.js';
import type { ResolvedSupervisorSpec } from '../supervisor/spec.js';
import { processSpinBudget, type SpinBudget } from '../ring/spin-budget.js';
import { Wiring } from '../transport/wiring.js';
import { DeadLetterLog } from './dead-letters.js';
import { DeadLetterArchive } from './dead-letter-archive.js';
import { DeadLetterStore } from '../persistence/dead-letter-store.js';
import { MainEndpoint, SYSTEM_ID } from './endpoint.js';
import { EventHub } from './events.js';
import { ShutdownTasks, type ShutdownPhase } from './shutdown.js';
import { WRITE_LOCK_BYTES } from '../persistence/write-lock.js';
import { resolveSystemOptions, type ResolvedSystemOptions, type SpawnSpec, type SystemOptions } from './options.js';
import type { ApiFor } from '../actor/protocol.js';
import { ActorRef } from '../actor/ref.js';
import { TreeRegistry } from './registry.js';
import { cellServices, logTreeEvent } from './services.js';
import { aggregate, moduleHealth, systemMetrics, treeStatus, type ActorStatus, type SystemHealth, type SystemMetrics } from './snapshot.js';
import { joinCluster, type ClusterNode, type NodeInfo } from './cluster-link.js';
import { systemTopics, type Topics, type TopicHandler } from './topics.js';
import { SystemWatches, type Terminated, type WatchInfo } from './watches.js';

export { SYSTEM_ID, type SystemOptions, type ActorStatus };
type SystemState = 'starting' | 'running' | 'stopping' | 'stopped';

/** A child with `pool` runs on a piscina pool; any other in a worker of its own. */
export const defaultCellFactory: CellFactory = (spec, parent, moduleUrl, svc) =>
  spec.pool ? new PoolCell(spec, parent, moduleUrl, svc) : new ActorCell(spec, parent, moduleUrl, svc);

/**
 * A running actor system: the supervision tree, every actor's worker, and the
 * main thread's own place on the data plane (for tells and asks from here).
 * A facade over the tree registry, the main-thread endpoint, the topics and
 * the dead-letter log.
 */
export class ActorSystem {
  readonly name: string;
  readonly log: Logger;
  readonly #opts: ResolvedSystemOptions;
  readonly #wiring = new Wiring();
  readonly #spinBudget: SpinBudget;
  readonly #events = new EventHub();
  readonly #watchdog = new Watchdog();
  readonly #endpoint: MainEndpoint;
  readonly #topics: Topics;
  readonly #tree: TreeRegistry;
  readonly #deadLetters: DeadLetterLog;
  readonly #watches: SystemWatches;
  #cluster: ClusterNode | null = null;
  #escalations = 0;
  #state: SystemState = 'starting';
  #stopping: Promise<void> | null = null;
  #stopRequested = false;
  readonly #shutdownTasks = new ShutdownTasks();
  readonly #stopped: Promise<string>;
  #resolveStopped!: (reason: string) => void;

  private constructor(options: SystemOptions, factory: CellFactory) {
    this.#opts = resolveSystemOptions(options);
    this.name = this.#opts.name;
    this.log = createLogger({ level: this.#opts.logLevel, pretty: this.#opts.logPretty, base: { system: this.name } });
    const codec = new Codec({ maxMessageBytes: this.#opts.maxMessageBytes });
    this.#stopped = new Promise((r) => (this.#resolveStopped = r));
    this.#deadLetters = new DeadLetterLog(this.#opts.deadLetterLimit, this.log, (e) => this.#events.emit(e));
    this.#spinBudget = processSpinBudget(this.#opts.spin.maxSpinners);
    const p = this.#opts.persistence;
    if (p.deadLetters) this.#deadLetters.archive = new DeadLetterArchive(DeadLetterStore.open(p.path, this.name, p.synchronous), (to, msg) => this.#endpoint.tell(to, msg), this.log);
    this.#endpoint = new MainEndpoint(this.#wiring, codec, { ...this.#opts, spin: { micros: this.#opts.spin.micros, adaptive: this.#opts.spin.adaptive, budget: this.#spinBudget } }, {
      cell: (id) => this.#tree.cells.get(id),
      deadLetter: (letter) => this.#deadLetters.add(letter),
      deliver: (env) => this.#topics.deliver(env),
      refusal: () => (this.#state === 'stopping' || this.#state === 'stopped' ? `the system is ${this.#state}` : null),
      remote: (id) => this.#cluster?.hosts(id) ?? false,
    });
    this.#topics = systemTopics(this.#endpoint, () => this.#tree.cells.values(), this.log);
    this.#tree = new TreeRegistry({ factory, topics: this.#topics, baseDir: this.#opts.baseDir, emit: (e) => this.#emit(e) });
    this.#watches = new SystemWatches({ cells: this.#tree.cells, send: (env) => this.#endpoint.sender.send(env), cluster: () => this.#cluster, log: this.log, events: this.#events });
    const opts = { ...this.#opts, spin: { micros: this.#opts.spin.micros, adaptive: this.#opts.spin.adaptive, budget: this.#spinBudget.buffer }, persistence: { ...this.#opts.persistence, lock: new SharedArrayBuffer(WRITE_LOCK_BYTES) } };
    const parts = { name: this.name, log: this.log, wiring: this.#wiring, codec, watchdog: this.#watchdog, endpoint: this.#endpoint, topics: this.#topics, watches: this.#watches };
    this.#tree.services = cellServices({ ...parts, emit: (e) => this.#events.emit(e), deadLetter: (letter) => this.#deadLetters.add(letter), opts });
    if (this.#opts.tracing) this.#shutdownTasks.add('after-actors', holdTracing()); // this thread's sends carry the span's context too, until this system stops
  }

  /** Validate the tree, start every actor in dependency order, and resolve once all are ready. */
  static async start(options: SystemOptions, internal: { cellFactory?: CellFactory } = {}): Promise<ActorSystem> {
    const spec = resolveTree(options?.tree);
    const system = new ActorSystem(options, internal.cellFactory ?? defaultCellFactory);
    const root = system.#tree.build(spec, null);
    system.#tree.root = root;
    root.onExit = (info) => void system.stop(info.normal ? info.reason : `escalated: ${info.reason}`);
    void system.#endpoint.pump();
    try {
      if (system.#opts.cluster) system.#cluster = await joinCluster(system.#opts.cluster, { ...system.#opts, log: system.log, wiring: system.#wiring, endpoint: system.#endpoint, tree: system.#tree, topics: system.#topics, tasks: system.#shutdownTasks, watches: system.#watches, emit: (e) => system.#events.emit(e), deadLetter: (l) => system.#deadLetters.add(l) });
      await root.start();
    } catch (err) {
      await system.stop(`start failed: ${(err as Error).message}`);
      throw err;
    }
    system.#state = 'running';
    return system;
  }

  /** A reference to actor `id`; `system.ref<typeof Sink>('sink')` checks what it is told and asked (see ActorRef). */
  ref<T = unknown>(id: string): ActorRef<T> {
    return new ActorRef<T>(id, { tell: (to, msg, o) => this.#endpoint.tell(to, msg, o), ask: (to, msg, o) => this.#endpoint.ask(to, msg, o), node: (to) => this.#cluster?.where(to) });
  }

  /** The nodes of this system's cluster, this one among them, with their state and actors ([] when it is not a cluster node). */
  nodes(): NodeInfo[] {
    return this.#cluster?.nodes() ?? [];
  }

  /** Publish `msg` on `subject` to every subscriber (actors, main-thread handlers); answers how many it reached (0: unrouted). */
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
   * A typed proxy to actor `id`'s `api`: `await system.proxy<typeof Risk>('risk').check(order)`
   * (or `system.proxy<RiskApi>('risk')` with an interface).
   * Each call is an ask over the rings (comlink's protocol, not postMessage),
   * settled by the answer, the method's error, or the ask's timeout/crash errors.
   */
  proxy<T>(id: string, options: AskOptions = {}): Remote<ApiFor<T>> {
    return makeProxy<ApiFor<T>>((m) => this.#endpoint.ask(id, m, options, undefined, 'call'));
  }

  /**
   * Watch actor `id` (of any node) from the main thread: `listener` gets one `{ type: 'terminated', id, reason }`
   * when its incarnation ends (docs/actors.md#watches); more listeners share one watch. Returns this listener's unwatch.
   */
  watch(id: string, listener: (t: Terminated) => void): () => void {
    return this.#watches.watchFromMain(id, listener);
  }

  /** Drop the main thread's watch of `id` with all its listeners (a no-op when there is none). */
  unwatch(id: string): void {
    this.#watches.unwatchFromMain(id);
  }

  /** Every watch this node holds: a watcher here of an actor here or elsewhere, or one of another node's of an actor here. */
  watches(): WatchInfo[] {
    return this.#watches.list();
  }

  /** Every topic subscription: pattern and subscriber (an actor id, or '$system'). */
  subscriptions(): Subscription[] {
    return this.#topics.list();
  }

  /**
   * Add a child to supervisor `parentId` while running: a child spec, or
   * `{ id, config? }` under a simple_one_for_one supervisor.
   * `spawn<typeof Worker>(...)` checks `config` and types the returned ref.
   */
  async spawn<T = unknown>(parentId: string, childSpec: SpawnSpec<T>): Promise<ActorRef<T>> {
    if (this.#stopRequested) throw new ActorStoppedError(SYSTEM_ID, 'cannot spawn: the system is stopping');
    const sup = this.#tree.supervisors.get(parentId);
    if (!sup) throw new NoSuchActorError(parentId, 'spawn');
    const spec = resolveDynamicChild(childSpec, sup.spec, this.#tree.ids());
    const cell = this.#tree.cell(spec, parentId);
    try {
      if (this.#cluster) await this.#cluster.claimSpawn(spec.id); // no other node may spawn the id at the same moment (docs/cluster.md#spawning)
      await sup.spawn(cell);
    } catch (err) {
      this.#tree.forget(spec.id); // the id is free again for a corrected spawn
      throw err;
    }
    return this.ref<T>(spec.id);
  }

  /** Graceful stop: each actor drains its inbox, stops in reverse start order; every pending ask settles. */
  stop(reason = 'shutdown'): Promise<void> {
    this.#stopRequested = true; // before the first shutdown task runs, which may try to spawn
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  /**
   * Run `task` as part of every stop of this system (CoordinatedShutdown's
   * phases, two of them): `before-actors` tasks run first, while the actors
   * still run (stop taking reloads or requests); `after-actors` tasks once
   * every actor has stopped (close a listener). A phase's tasks run in the
   * order added and are awaited; one that throws is logged and the stop goes
   * on. Returns a function that removes the task.
   */
  onShutdown(phase: ShutdownPhase, task: () => unknown): () => void {
    if (this.#stopRequested) throw new ActorStoppedError(SYSTEM_ID, `cannot add a shutdown task: the system is ${this.#state === 'running' ? 'stopping' : this.#state}`);
    return this.#shutdownTasks.add(phase, task);
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

  /** For the config layer (ConfigManager): a reload's outcome on the event stream (the system reads no config file itself). */
  reportConfig(event: ConfigEventInput): void {
    if (event?.type !== 'config-applied' && event?.type !== 'config-rejected') throw new InvalidOptionError('event.type', "must be 'config-applied' or 'config-rejected'");
    this.#events.emit({ ...event });
  }

  /** For the alert manager (src/alerts): put an alert's `alert-firing` or `alert-resolved` on the event stream. */
  reportAlert(event: AlertEventInput): void {
    if (event?.type !== 'alert-firing' && event?.type !== 'alert-resolved') throw new InvalidOptionError('event.type', "must be 'alert-firing' or 'alert-resolved'");
    this.#events.emit({ ...event });
  }

  status(): ActorStatus[] {
    return treeStatus(this.#tree.root, this.#tree.cells, (id) => this.#tree.parentIdOf(id));
  }

  deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters.list();
  }

  /** The dead letters kept in the database (`persistence.deadLetters`): list, show, replay; null when off. */
  get deadLetterArchive(): DeadLetterArchive | null {
    return this.#deadLetters.archive;
  }

  get deadLetterCount(): number {
    return this.#deadLetters.count;
  }

  get state(): SystemState {
    return this.#state;
  }

  /** The supervision tree as it runs now: defaults filled in, dynamic children and applied changes included. */
  get tree(): ResolvedSupervisorSpec {
    return this.#tree.snapshot();
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
    if (this.#state !== 'running' || this.#stopRequested) throw new ActorStoppedError(SYSTEM_ID, `cannot change the tree: the system is ${this.#state === 'running' ? 'stopping' : this.#state}`);
    return this.#tree.applyTree(resolveTree(raw), this.#opts.askTimeoutMs, this.log);
  }

  /** Counters of every actor and of the system, read without asking any worker. */
  metrics(): SystemMetrics {
    const topics = { published: this.#topics.published, unrouted: this.#topics.unrouted, subscriptions: this.#topics.table.size };
    const systemInbox = { senderSlotsInUse: this.#wiring.switchboard.slotsInUse(SYSTEM_ID), spin: { ...this.#endpoint.inbox.spinStats } };
    return systemMetrics(this.#tree.cells.values(), this.#deadLetters, this.#escalations, topics, systemInbox);
  }

  /** Health of every actor (its `health` hook when running) and of the system, in one report. */
  async health(timeoutMs = 1000): Promise<SystemHealth> {
    const cells = [...this.#tree.cells.values()].filter((c) => !(c.record.retired && c.restart === 'temporary'));
    const modules = await Promise.all(cells.map((c) => moduleHealth(c, timeoutMs)));
    return aggregate(modules, cells, this.#state !== 'running');
  }

  /** True once every actor has started (and the system is not stopping). */
  ready(): boolean {
    return this.#state === 'running' && !this.#stopRequested && [...this.#tree.cells.values()].every((c) => c.record.state === 'running' || c.record.retired);
  }

  /** An operator's restart of one actor (or supervisor subtree): graceful stop, then start; not a crash. */
  async restartActor(id: string): Promise<void> {
    await this.#tree.parentOf(id).restartChild(id);
  }

  /**
   * Stop one actor for good: its unread mail is dead-lettered. A static child
   * stays in the tree, stopped, until restarted (OTP's terminate_child); a dynamic
   * child of a simple_one_for_one supervisor is deleted, its id free to spawn.
   */
  async stopActor(id: string): Promise<void> {
    const parent = this.#tree.parentOf(id);
    if (parent.spec.strategy === 'simple_one_for_one') await parent.removeChild(id);
    else await parent.terminateChild(id);
  }

  /** Internal: the live cell of actor `id` (health, configuration and tests use it). */
  cell(id: string): ChildCell | undefined {
    return this.#tree.cells.get(id);
  }

  #emit(e: EventInput): void {
    if (e.type === 'escalated') this.#escalations++;
    logTreeEvent(this.log, e);
    this.#events.emit(e);
  }

  async #shutdown(reason: string): Promise<void> {
    this.log.info({ reason }, 'system stopping');
    // The actors still take mail here (ready() says false already).
    await this.#shutdownTasks.run('before-actors', reason, this.log);
    this.#state = 'stopping';
    const root = this.#tree.root;
    if (root) {
      // An actor with no incarnation now (backing off, crashed, stopped) will
      // not run again: settle what waits in its inbox before anyone drains.
      for (const cell of this.#tree.cells.values()) if (!cell.alive()) cell.retire(reason);
      await root.stop(reason, true, true);
    }
    this.#endpoint.rejectAll((actor) => new ActorStoppedError(actor, `did not answer: the system stopped (${reason})`));
    this.#watchdog.close();
    this.#state = 'stopped';
    // Nothing it started outlives the stop: spare workers, and the pump's wait.
    await Promise.all([...this.#tree.cells.values()].map((c) => c.quiesce()));
    await this.#endpoint.close();
    await this.#deadLetters.archive?.close();
    await this.#shutdownTasks.run('after-actors', reason, this.log);
    this.#events.emit({ type: 'system-stopped', reason });
    this.#events.close();
    this.log.info({ reason, deadLetters: this.#deadLetters.count }, 'system stopped');
    this.#resolveStopped(reason);
  }
}
