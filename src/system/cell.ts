import { Worker } from 'node:worker_threads';
import type { ActorHealth } from '../actor/define.js';
import { fromWire, type WireError } from '../actor/wire-error.js';
import { ActorCrashedError, ActorStoppedError, RingmasterError, type CrashCause, type OverflowPolicy } from '../errors.js';
import { createLiveness, IN_FLIGHT_SLOT, Liveness, MSGS_FINISHED } from '../liveness/liveness.js';
import type { HostBoot, HostToMain } from '../host/protocol.js';
import { Backoff } from '../supervisor/budget.js';
import type { ExitInfo, SupervisedChild } from '../supervisor/runtime.js';
import type { ResolvedChildSpec, RestartType, Shutdown } from '../supervisor/spec.js';
import { ringDepth, ringFullEvents, ringReadPos } from '../ring/ring.js';
import type { CellServices } from './services.js';
import { takePoison } from './inbox-ops.js';
import { MailboxGate } from '../transport/mailbox.js';
import { SharedBreaker } from '../transport/breaker.js';

export type CellState = 'idle' | 'starting' | 'running' | 'backing-off' | 'stopping' | 'stopped' | 'crashed';

/**
 * One worker actor as the main thread sees it: its spec, its current
 * incarnation's worker, and the inbox and liveness block that outlive every
 * incarnation (they belong to the system).
 */
export class ActorCell implements SupervisedChild {
  spec: ResolvedChildSpec;
  readonly parent: string;
  moduleUrl: string;
  readonly liveness: Liveness;
  backoff: Backoff | null;
  onExit: (info: ExitInfo) => void = () => {};
  state: CellState = 'idle';
  incarnation = 0;
  restarts = 0;
  lastExit: ExitInfo | null = null;
  /** The latest crash, recorded when detected (before the worker is gone and lastExit is set). */
  lastCrash: { incarnation: number; cause: CrashCause; reason: string; at: number } | null = null;
  /** Ended for good (not restarted): its inbox is closed until a supervisor starts it again. */
  retired = false;
  /** Crashes by cause over the cell's life (restarts by cause, heartbeat misses). */
  readonly crashes: Partial<Record<CrashCause, number>> = {};
  #svc: CellServices;
  #livenessBuffer: SharedArrayBuffer;
  /** The current incarnation's worker and lifecycle; null while none runs. */
  #inc: Incarnation | null = null;
  #startedAt = 0;
  /** A stop in progress, shared by every caller. */
  #stopping: Promise<void> | null = null;
  /** The frame the last crashes happened on (`slot:readPos`) and how many incarnations died on it. */
  #poison = { key: '', deaths: 0 };
  #requests = new Map<number, (m: HostToMain) => void>();
  #nextRequest = 1;
  #standby: { worker: Worker; ready: boolean; settled: Promise<void>; detach: () => void } | null = null;

  constructor(spec: ResolvedChildSpec, parent: string, moduleUrl: string, svc: CellServices) {
    this.spec = spec;
    this.parent = parent;
    this.moduleUrl = moduleUrl;
    this.#svc = svc;
    this.#livenessBuffer = createLiveness();
    this.liveness = new Liveness(this.#livenessBuffer);
    this.backoff = spec.backoff ? new Backoff(spec.backoff) : null;
    // An actor removed from the tree and added again keeps its inbox: peers
    // may hold rings into it, and those must lead to the new incarnation.
    if (!svc.wiring.switchboard.has(spec.id)) svc.wiring.register(spec.id, { ringBytes: spec.ringBytes, senderSlots: svc.senderSlots });
    this.#configureMailbox();
  }

  /** Senders read the mailbox bound and the breaker from the inbox's doorbell: write them there. */
  #configureMailbox(): void {
    const doorbell = this.#svc.wiring.switchboard.describe(this.id).doorbell;
    new MailboxGate(doorbell).configure(this.spec.mailbox);
    this.breaker.configure(this.spec.breaker);
  }

  /** The actor's ask breaker, as its callers see it. */
  get breaker(): SharedBreaker {
    return (this.#breaker ??= new SharedBreaker(this.#svc.wiring.switchboard.describe(this.id).doorbell));
  }
  #breaker: SharedBreaker | null = null;

  /** Take a changed spec (hot reload); it applies from the next incarnation. */
  replaceSpec(spec: ResolvedChildSpec, moduleUrl: string): void {
    this.spec = spec;
    this.moduleUrl = moduleUrl;
    this.backoff = spec.backoff ? new Backoff(spec.backoff) : null;
    this.#configureMailbox();
    const sb = this.#standby; // a spare loaded the old module
    this.#standby = null;
    void sb?.worker.terminate();
  }

  /** Change the running incarnation's log level (and every later one's). */
  setLogLevel(level: string | undefined): void {
    this.spec.logLevel = level;
    this.post({ type: 'log-level', level: level ?? this.#svc.logLevel });
  }

  get id(): string {
    return this.spec.id;
  }
  get restart(): RestartType {
    return this.spec.restart;
  }
  get significant(): boolean {
    return this.spec.significant;
  }
  get shutdown(): Shutdown {
    return this.spec.shutdown;
  }
  get running(): boolean {
    return this.state === 'running';
  }

  uptimeMs(): number {
    return this.#startedAt ? Date.now() - this.#startedAt : 0;
  }

  markBackingOff(): void {
    this.state = 'backing-off';
  }

  /** Boot a spare worker now (module loaded, waiting) so the next start only hands it the incarnation. */
  prewarm(): void {
    if (!this.#standby && !this.#inc) this.#prepareStandby();
  }

  get generation(): number {
    return this.incarnation;
  }

  alive(): boolean {
    return this.#inc !== null;
  }

  /** The spare worker: none, still loading the host and module, or ready to take the next incarnation. */
  standbyState(): 'none' | 'booting' | 'ready' {
    return !this.#standby ? 'none' : this.#standby.ready ? 'ready' : 'booting';
  }

  async start(): Promise<void> {
    // The previous incarnation's crash handling (termination, poison check)
    // finishes before a new one may touch the rings.
    await this.#inc?.ending;
    if (this.#stopping) await this.#stopping;
    // A spare still booting is nearer to ready than a new worker would be.
    if (this.#standby && !this.#standby.ready) await this.#standby.settled;
    this.incarnation++;
    if (this.incarnation > 1) this.restarts++;
    this.state = 'starting';
    this.retired = false;
    this.#startedAt = 0;
    this.liveness.resetForIncarnation();
    const svc = this.#svc;
    svc.wiring.switchboard.setClosed(this.id, false); // retired before, coming back now
    const boot: HostBoot = {
      system: svc.systemName,
      id: this.id,
      moduleUrl: this.moduleUrl,
      config: this.spec.config,
      incarnation: this.incarnation,
      inbox: svc.wiring.switchboard.describe(this.id),
      liveness: this.#livenessBuffer,
      heartbeatMs: this.spec.heartbeat?.intervalMs ?? 0,
      logLevel: this.spec.logLevel ?? svc.logLevel,
      logPretty: svc.logPretty,
      maxMessageBytes: svc.maxMessageBytes,
      spinMicros: svc.spinMicros,
      sendTimeoutMs: svc.sendTimeoutMs,
      askTimeoutMs: svc.askTimeoutMs,
      subscriptions: svc.subscriptions(),
    };
    const sb = this.#standby;
    let w: Worker;
    if (sb?.ready) {
      // A standby has loaded the host and the module already: hand it this incarnation.
      this.#standby = null;
      w = sb.worker;
      // Only our own listeners: Worker keeps internal ones that start and
      // stop its message port as 'message' listeners come and go.
      sb.detach();
      w.postMessage({ type: 'activate', boot });
    } else {
      w = new Worker(svc.hostUrl, { workerData: boot, ...this.#limits() });
    }
    let exited!: () => void;
    const inc: Incarnation = {
      n: this.incarnation,
      worker: w,
      pendingStart: null,
      ending: null,
      deliberate: false,
      onStopped: null,
      exited: new Promise<void>((r) => (exited = r)),
    };
    this.#inc = inc;
    this.#elu = null;
    svc.wiring.bind(this.id, w);
    const started = new Promise<void>((resolve, reject) => (inc.pendingStart = { resolve, reject }));
    w.on('message', (m: HostToMain) => this.#onMessage(m, inc));
    w.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#crash(inc, oom ? 'out-of-memory' : 'exception', oom ? 'worker ran out of heap (resourceLimits)' : `${err.name}: ${err.message}`);
    });
    w.on('exit', (code) => {
      exited();
      this.#crash(inc, 'exit', `worker exited with code ${code}`);
    });
    svc.watchdog.watch(this, inc.n);
    return started;
  }

  /** Called by the watchdog: the incarnation stalled or overran its deadline. */
  stalled(incarnation: number, cause: CrashCause, reason: string): void {
    if (this.#inc?.n === incarnation) this.#crash(this.#inc, cause, reason);
  }

  stop(reason: string, drain: boolean): Promise<void> {
    this.#stopping ??= this.#stop(reason, drain).finally(() => (this.#stopping = null));
    return this.#stopping;
  }

  async #stop(reason: string, drain: boolean): Promise<void> {
    await this.#inc?.ending; // a crash or self-stop being handled finishes first
    const inc = this.#inc;
    if (!inc) {
      if (this.state !== 'stopped') this.#markStopped(reason, null);
      return;
    }
    inc.deliberate = true;
    this.state = 'stopping';
    this.#svc.watchdog.unwatch(this);
    const shutdown = this.spec.shutdown;
    if (shutdown !== 'brutal_kill' && inc.pendingStart === null) {
      inc.worker.postMessage({ type: 'stop', drain });
      const stoppedMsg = new Promise<void>((resolve) => (inc.onStopped = resolve));
      let timer: NodeJS.Timeout | undefined;
      const limit = shutdown === 'infinity' ? null : new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdown)));
      await Promise.race([stoppedMsg, inc.exited, ...(limit ? [limit] : [])]);
      clearTimeout(timer);
    }
    await inc.worker.terminate();
    await inc.exited;
    this.#markStopped(reason, inc);
  }

  retire(reason: string): void {
    this.retired = true;
    const sb = this.#standby;
    this.#standby = null;
    void sb?.worker.terminate();
    this.#svc.retireInbox(this.id, new ActorStoppedError(this.id, `is stopped (${reason})`));
  }

  /** Ask the incarnation for its `health` hook's answer (null when it has none or is not running). */
  health(timeoutMs: number): Promise<ActorHealth | null> {
    return this.#request<ActorHealth | null>({ type: 'health-request' }, timeoutMs, (m) => (m.type === 'health' ? m.health : null));
  }

  /** Hand the running incarnation a new config; resolves once its `configure` hook ran. */
  configure(config: unknown, timeoutMs: number): Promise<void> {
    this.spec.config = config;
    return this.#request<void>({ type: 'configure', config } as { type: string }, timeoutMs, (m) => {
      if (m.type === 'configured' && m.error) throw fromWire(m.error);
    });
  }

  /** Post to the current incarnation (the system uses this to settle an ask on a peer's behalf). */
  post(message: unknown): boolean {
    const inc = this.#inc;
    if (!inc || inc.ending || inc.deliberate) return false;
    inc.worker.postMessage(message);
    return true;
  }

  inboxDepth(): number {
    let n = 0;
    for (const { ring, lane } of this.#svc.wiring.switchboard.describe(this.id).rings) if (lane !== 'reply') n += ringDepth(ring);
    return n;
  }

  handled(): number {
    return this.liveness.read(MSGS_FINISHED);
  }

  /** Times a sender found one of this actor's rings full. */
  ringFullEvents(): number {
    let n = 0;
    for (const { ring } of this.#svc.wiring.switchboard.describe(this.id).rings) n += ringFullEvents(ring);
    return n;
  }

  /** Share of the last interval the current incarnation's event loop was busy (0..1), or 0 when not running. */
  utilization(): number {
    const w = this.#inc?.worker;
    if (!w || this.state !== 'running') return 0;
    const prev = this.#elu;
    const u = prev ? w.performance.eventLoopUtilization(prev).utilization : w.performance.eventLoopUtilization().utilization;
    this.#elu = w.performance.eventLoopUtilization();
    return Math.min(1, Math.max(0, u));
  }

  #elu: ReturnType<Worker['performance']['eventLoopUtilization']> | null = null;

  #limits(): { resourceLimits?: NonNullable<ResolvedChildSpec['resourceLimits']> } {
    return this.spec.resourceLimits ? { resourceLimits: this.spec.resourceLimits } : {};
  }

  /** Boot a spare worker that loads the host and the module, then waits for the next incarnation. */
  #prepareStandby(): void {
    const w = new Worker(this.#svc.hostUrl, { workerData: { standby: true, moduleUrl: this.moduleUrl }, ...this.#limits() });
    let settle: () => void = () => {};
    const onMessage = (m: HostToMain): void => {
      if (m.type === 'standby-ready') sb.ready = true;
      settle();
    };
    // A spare that fails is dropped; the next start boots a fresh worker.
    const onError = (): void => settle();
    const onExit = (): void => {
      if (this.#standby === sb) this.#standby = null;
      settle();
    };
    const sb = {
      worker: w,
      ready: false,
      settled: new Promise<void>((r) => (settle = r)),
      detach: () => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      },
    };
    this.#standby = sb;
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  }

  #request<T>(msg: { type: string }, timeoutMs: number, map: (m: HostToMain) => T): Promise<T> {
    const inc = this.#inc;
    if (!inc || this.state !== 'running') return Promise.resolve(map({ type: 'health', requestId: 0, health: null }));
    const requestId = this.#nextRequest++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(requestId);
        reject(new RingmasterError('ERR_ASK_TIMEOUT', `actor '${this.id}' did not answer ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#requests.set(requestId, (m) => {
        clearTimeout(timer);
        this.#requests.delete(requestId);
        try {
          resolve(map(m));
        } catch (err) {
          reject(err as Error);
        }
      });
      inc.worker.postMessage({ ...msg, requestId });
    });
  }

  #onMessage(m: HostToMain, inc: Incarnation): void {
    if (inc !== this.#inc) return;
    switch (m.type) {
      case 'ready':
        if (inc.ending || inc.deliberate) return;
        this.state = 'running';
        this.#startedAt = Date.now();
        this.#svc.emit({ type: inc.n === 1 ? 'started' : 'restarted', actor: this.id, incarnation: inc.n });
        inc.pendingStart?.resolve();
        inc.pendingStart = null;
        if (this.spec.standby && !this.#standby) this.#prepareStandby();
        return;
      case 'fatal':
        this.#crash(inc, m.cause, describe(m.error));
        return;
      case 'stopped':
        if (inc.deliberate) inc.onStopped?.();
        else this.#end(inc, { normal: true, reason: m.reason });
        return;
      case 'subscribe':
        this.#svc.subscribe(this.id, m.pattern);
        return;
      case 'unsubscribe':
        this.#svc.unsubscribe(this.id, m.pattern);
        return;
      case 'dead-letter':
        this.#svc.deadLetter({ ...m.letter, reason: m.letter.error.message, ...droppedBy(m.letter.error) }, m.letter.error);
        return;
      case 'health':
      case 'configured':
        this.#requests.get(m.requestId)?.(m);
        return;
      default:
        return; // ring requests: the wiring answers them
    }
  }

  #crash(inc: Incarnation, cause: CrashCause, reason: string): void {
    this.#end(inc, { normal: false, cause, reason });
  }

  /**
   * The incarnation ended on its own (crash, or the actor stopped itself).
   * Handled once per incarnation, never for one being stopped deliberately;
   * the worker is terminated before anything else touches its rings.
   */
  #end(inc: Incarnation, info: ExitInfo): void {
    if (inc.ending || inc.deliberate || inc !== this.#inc) return;
    this.state = info.normal ? 'stopping' : 'crashed';
    this.#svc.watchdog.unwatch(this);
    const inFlight = this.liveness.read(IN_FLIGHT_SLOT);
    if (!info.normal) {
      // Reported when detected; the worker's termination and the poison check follow.
      this.crashes[info.cause!] = (this.crashes[info.cause!] ?? 0) + 1;
      this.lastCrash = { incarnation: inc.n, cause: info.cause!, reason: info.reason, at: Date.now() };
      this.#svc.emit({ type: 'crashed', actor: this.id, incarnation: inc.n, cause: info.cause!, reason: info.reason });
    }
    inc.ending = (async () => {
      await inc.worker.terminate();
      await inc.exited;
      // The old worker can no longer touch any ring: the main thread may act as their reader.
      this.#inc = null;
      this.#svc.wiring.unbind(this.id);
      const err = info.normal ? null : new ActorCrashedError(this.id, info.cause!, info.reason, inc.n);
      if (err) {
        this.#checkPoison(inFlight, err);
      } else {
        this.state = 'stopped';
        this.#svc.emit({ type: 'stopped', actor: this.id, incarnation: inc.n, reason: info.reason });
      }
      this.lastExit = { ...info, generation: inc.n };
      const pending = inc.pendingStart;
      inc.pendingStart = null;
      if (pending) pending.reject(err ?? new ActorStoppedError(this.id, `stopped itself while starting (${info.reason})`));
      else this.onExit(this.lastExit);
    })();
  }

  /** Count deaths on the in-flight message; past maxRedeliveries it leaves the inbox as poison. */
  #checkPoison(slot: number, err: ActorCrashedError): void {
    if (slot < 0) return;
    const ring = this.#svc.wiring.switchboard.describe(this.id).rings.find((r) => r.slot === slot);
    if (!ring) return;
    const key = `${slot}:${ringReadPos(ring.ring)}`;
    this.#poison = key === this.#poison.key ? { key, deaths: this.#poison.deaths + 1 } : { key, deaths: 1 };
    if (this.#poison.deaths <= this.spec.maxRedeliveries) return;
    this.#poison = { key: '', deaths: 0 };
    takePoison(this.#svc, this.id, ring, err);
  }

  #markStopped(reason: string, inc: Incarnation | null): void {
    const was = this.state;
    this.state = 'stopped';
    if (inc && this.#inc === inc) this.#inc = null;
    this.#svc.wiring.unbind(this.id);
    inc?.pendingStart?.reject(new ActorStoppedError(this.id, `was stopped while starting (${reason})`));
    if (inc) inc.pendingStart = null;
    // Only a stop that ended a live incarnation is an event; an actor already down just stays down.
    if (was === 'running' || was === 'starting' || was === 'stopping') this.#svc.emit({ type: 'stopped', actor: this.id, incarnation: this.incarnation, reason });
  }
}

/** One incarnation's worker and where its life stands. */
interface Incarnation {
  n: number;
  worker: Worker;
  pendingStart: { resolve: () => void; reject: (e: Error) => void } | null;
  /** Set once the incarnation ended on its own; resolves when that is fully handled. */
  ending: Promise<void> | null;
  /** A stop was asked for: its end is not a crash and is not reported to the supervisor. */
  deliberate: boolean;
  onStopped: (() => void) | null;
  exited: Promise<void>;
}

function describe(e: WireError): string {
  return `${e.name}: ${e.message}`;
}

/** The overflow policy that dropped a message, when a MailboxFullError is why it is a dead letter. */
export function droppedBy(err: { code?: string; policy?: string }): { dropped?: OverflowPolicy } {
  return err.code === 'ERR_MAILBOX_FULL' && err.policy ? { dropped: err.policy as OverflowPolicy } : {};
}
