import { WriteLock } from '../persistence/write-lock.js';
import { Worker } from 'node:worker_threads';
import type { ActorHealth } from '../actor/define.js';
import { fromWire, type WireError } from '../actor/wire-error.js';
import { ActorStoppedError, type CrashCause } from '../errors.js';
import type { Watched } from '../health/watchdog.js';
import type { HostBoot, HostToMain, MainToHost } from '../host/protocol.js';
import type { ExitInfo } from '../supervisor/child.js';
import type { ResolvedChildSpec } from '../supervisor/spec.js';
import type { CellServices, ChildCell, PoolStats, StandbyState } from './contract.js';
import { ControlChannel } from './control.js';
import { EluWindow, loopProbe } from './elu.js';
import { describeWireError, moduleError, reportedDeadLetter, type Incarnation } from './incarnation.js';
import type { PoisonMark } from './inbox-ops.js';
import { settleInFlight } from './in-flight.js';
import { CellBase } from './base.js';
import { Standby, workerExecArgv } from './standby.js';

/**
 * One worker actor as the main thread sees it: its record (spec, inbox and
 * liveness block, which outlive every incarnation and belong to the system)
 * and the current incarnation's worker.
 */
export class ActorCell extends CellBase implements ChildCell, Watched {
  readonly #svc: CellServices;
  /** The current incarnation's worker and lifecycle; null while none runs. */
  #inc: Incarnation | null = null;
  /** A stop in progress, shared by every caller. */
  #stopping: Promise<void> | null = null;
  /** The frame the last crashes happened on and how many incarnations died on it. */
  #poison: PoisonMark = { key: '', deaths: 0 };
  #standby: Standby | null = null;
  readonly #elu = new EluWindow();

  constructor(spec: ResolvedChildSpec, parent: string, moduleUrl: string, svc: CellServices) {
    super(spec, parent, moduleUrl, svc);
    this.#svc = svc;
  }


  replaceSpec(spec: ResolvedChildSpec, moduleUrl: string): void {
    this.record.replaceSpec(spec, moduleUrl);
    this.#dropStandby(); // a spare loaded the old module
  }

  setLogLevel(level: string | undefined): void {
    this.record.spec.logLevel = level;
    this.post({ type: 'log-level', level: level ?? this.#svc.logLevel });
  }

  uptimeMs(): number {
    return this.record.uptimeMs();
  }

  /** Boot a spare worker now (module loaded, waiting) so the next start only hands it the incarnation. */
  prewarm(): void {
    if (!this.#standby && !this.#inc) this.#prepareStandby();
  }

  alive(): boolean {
    return this.#inc !== null;
  }

  standbyState(): StandbyState {
    return this.#standby?.state ?? 'none';
  }

  poolStats(): PoolStats | undefined {
    return undefined;
  }

  async start(): Promise<void> {
    // The previous incarnation's crash handling (termination, poison check)
    // finishes before a new one may touch the rings.
    await this.#inc?.ending;
    if (this.#stopping) await this.#stopping;
    // A spare still booting is nearer to ready than a new worker would be.
    if (this.#standby?.state === 'booting') await this.#standby.settled();
    const rec = this.record;
    const n = rec.beginIncarnation();
    const unloadable = this.#standby?.error;
    if (unloadable) {
      // The spare found the module cannot load: so would a new worker. Fail now, without a launch.
      this.#standby = null;
      const err = moduleError(this.record.spec.module, this.#svc.baseDir, unloadable);
      rec.recordCrash(n, 'module', err.message);
      rec.lastExit = { normal: false, cause: 'module', reason: err.message, incarnation: n };
      throw err;
    }
    const svc = this.#svc;
    const boot: HostBoot = {
      system: svc.systemName,
      id: this.id,
      moduleUrl: rec.moduleUrl,
      config: rec.spec.config,
      incarnation: n,
      inbox: svc.wiring.switchboard.describe(this.id),
      liveness: rec.livenessBuffer,
      recorder: rec.recorderBuffer,
      logLevel: rec.spec.logLevel ?? svc.logLevel,
      logPretty: svc.logPretty,
      tracing: svc.tracing,
      maxMessageBytes: svc.maxMessageBytes,
      spin: svc.spin,
      sendTimeoutMs: svc.sendTimeoutMs,
      askTimeoutMs: svc.askTimeoutMs,
      subscriptions: svc.subscriptions(),
      persistence: svc.persistence,
    };
    const sb = this.#standby;
    let w: Worker;
    if (sb?.state === 'ready') {
      // A standby has loaded the host and the module already: hand it this incarnation.
      this.#standby = null;
      w = sb.take();
      w.postMessage({ type: 'activate', boot } satisfies MainToHost);
    } else {
      this.#dropStandby();
      w = new Worker(svc.hostUrl, { workerData: boot, execArgv: workerExecArgv(), ...this.#limits() });
    }
    let exited!: () => void;
    const inc: Incarnation = {
      n,
      worker: w,
      control: new ControlChannel(this.id, w),
      pendingStart: null,
      ending: null,
      deliberate: false,
      onStopped: null,
      exited: new Promise<void>((r) => (exited = r)),
    };
    this.#inc = inc;
    this.#elu.reset();
    svc.wiring.bind(this.id, w);
    const started = new Promise<void>((resolve, reject) => (inc.pendingStart = { resolve, reject }));
    inc.started = started.catch(() => {});
    w.on('message', (m: HostToMain) => this.#onMessage(m, inc));
    w.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#end(inc, { normal: false, cause: oom ? 'out-of-memory' : 'exception', reason: oom ? 'worker ran out of heap (resourceLimits)' : `${err.name}: ${err.message}` });
    });
    const tid = w.threadId; // read now: a worker that has exited reports -1
    w.on('exit', (code) => {
      exited();
      inc.control.close();
      WriteLock.releaseFor(svc.persistence.lock, tid);
      this.#end(inc, { normal: false, cause: 'exit', reason: `worker exited with code ${code}` });
    });
    svc.watchdog.watch(this, n, loopProbe(w, boot.inbox.doorbell, boot.liveness));
    // The heartbeat cannot catch an `init` that awaits forever: the start itself has a deadline.
    const limit = rec.spec.initTimeoutMs;
    const timer = setTimeout(() => {
      if (inc.pendingStart) this.#end(inc, { normal: false, cause: 'init', reason: `did not start within initTimeoutMs (${limit} ms): module import and init still running` });
    }, limit);
    return started.finally(() => clearTimeout(timer));
  }

  /** Called by the watchdog: the incarnation stalled or overran its deadline. */
  stalled(incarnation: number, cause: CrashCause, reason: string): void {
    if (this.#inc?.n === incarnation) this.#end(this.#inc, { normal: false, cause, reason });
  }

  stop(reason: string, drain: boolean): Promise<void> {
    this.#stopping ??= this.#stop(reason, drain).finally(() => (this.#stopping = null));
    return this.#stopping;
  }

  async #stop(reason: string, drain: boolean): Promise<void> {
    await this.#inc?.ending; // a crash or self-stop being handled finishes first
    const inc = this.#inc;
    if (!inc) {
      if (this.record.state !== 'stopped') this.#markStopped(reason, null);
      return;
    }
    inc.deliberate = true;
    this.record.state = 'stopping';
    this.#svc.watchdog.unwatch(this);
    const shutdown = this.record.spec.shutdown;
    if (shutdown !== 'brutal_kill' && inc.pendingStart === null) {
      inc.worker.postMessage({ type: 'stop', drain } satisfies MainToHost);
      const stoppedMsg = new Promise<void>((resolve) => (inc.onStopped = resolve));
      let timer: NodeJS.Timeout | undefined;
      const limit = shutdown === 'infinity' ? null : new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdown)));
      await Promise.race([stoppedMsg, inc.exited, ...(limit ? [limit] : [])]);
      clearTimeout(timer);
    }
    await inc.worker.terminate();
    await inc.exited;
    this.#poison = settleInFlight(this.#svc, this.id, this.record.liveness, null, this.#poison, this.record.spec.maxRedeliveries);
    this.#markStopped(reason, inc);
  }

  retire(reason: string): void {
    this.#dropStandby();
    this.record.retire(new ActorStoppedError(this.id, `is stopped (${reason})`));
  }

  health(timeoutMs: number): Promise<ActorHealth | null> {
    const inc = this.#running();
    if (!inc) return Promise.resolve(null);
    return inc.control.request({ type: 'health-request' }, timeoutMs, (m) => (m.type === 'health' ? m.health : null), () => null);
  }

  /** Resolves once the incarnation's `configure` hook ran (at once when none runs: the next start takes the config). */
  async configure(config: unknown, timeoutMs: number): Promise<void> {
    this.record.spec.config = config;
    const starting = this.#inc;
    // An incarnation still starting booted with the old config: once it is
    // up, it gets the new one like a running one does.
    if (starting?.pendingStart) await starting.started;
    const inc = this.#running();
    if (!inc) return;
    const answered = (m: { type: string; error?: WireError }): void => {
      if (m.type === 'configured' && m.error) throw fromWire(m.error);
    };
    // An incarnation that ends first (a hung one killed, a crash) never runs the hook: its successor boots with the config.
    return inc.control.request({ type: 'configure', config }, timeoutMs, answered, () => undefined);
  }

  post(message: MainToHost): boolean {
    const inc = this.#inc;
    if (!inc || inc.ending || inc.deliberate) return false;
    inc.worker.postMessage(message);
    return true;
  }

  /** Share of the last window (elu.ts) the current incarnation's event loop was busy (0..1), or 0 when not running. */
  utilization(): number {
    const w = this.#inc?.worker;
    return w && this.record.state === 'running' ? this.#elu.read(w) : 0;
  }

  #running(): Incarnation | null {
    return this.#inc && this.record.state === 'running' ? this.#inc : null;
  }

  #limits(): { resourceLimits?: NonNullable<ResolvedChildSpec['resourceLimits']> } {
    const limits = this.record.spec.resourceLimits;
    return limits ? { resourceLimits: limits } : {};
  }

  #prepareStandby(): void {
    const sb: Standby = new Standby(this.#svc.hostUrl, this.id, this.record.moduleUrl, this.#limits(), () => {
      if (this.#standby === sb) this.#standby = null;
    });
    this.#standby = sb;
  }

  #dropStandby(): void {
    const sb = this.#standby;
    this.#standby = null;
    if (!sb) return;
    const gone = sb.discard().finally(() => this.#discarding.delete(gone));
    this.#discarding.add(gone);
  }

  /** Spares being terminated. */
  readonly #discarding = new Set<Promise<void>>();

  async quiesce(): Promise<void> {
    await this.#inc?.exited;
    await Promise.all(this.#discarding);
  }

  #onMessage(m: HostToMain, inc: Incarnation): void {
    if (inc !== this.#inc) return;
    switch (m.type) {
      case 'ready':
        if (inc.ending || inc.deliberate) return;
        this.record.markRunning(inc.n);
        inc.pendingStart?.resolve();
        inc.pendingStart = null;
        if (this.record.spec.standby && !this.#standby) this.#prepareStandby();
        return;
      case 'fatal': {
        const error = fromWire(m.error);
        this.#end(
          inc,
          // Only a thrown Error has a stack of its own (anything else rebuilt here would carry this thread's).
          { normal: false, cause: m.cause, reason: describeWireError(m.error), ...(m.error.stack ? { error } : {}) },
          m.cause === 'module' ? moduleError(this.record.spec.module, this.#svc.baseDir, error) : undefined,
        );
        return;
      }
      case 'stopped':
        if (inc.deliberate) inc.onStopped?.();
        else this.#end(inc, { normal: true, reason: m.reason });
        return;
      case 'subscribe':
      case 'unsubscribe':
        return this.#svc[m.type](this.id, m.pattern);
      case 'watch':
      case 'unwatch':
        return this.#svc.watch(this.id, m);
      case 'dead-letter':
        return reportedDeadLetter(this.#svc, this.id, m.letter);
      case 'health':
      case 'configured':
        inc.control.answer(m);
        return;
      default:
        return; // ring requests: the wiring answers them
    }
  }

  /**
   * The incarnation ended on its own (crash, or the actor stopped itself).
   * Handled once per incarnation, never for one being stopped deliberately;
   * the worker is terminated before anything else touches its rings.
   */
  #end(inc: Incarnation, info: ExitInfo, startError?: Error): void {
    if (inc.ending || inc.deliberate || inc !== this.#inc) return;
    const rec = this.record;
    this.#svc.watchdog.unwatch(this);
    // Reported when detected; the worker's termination and the poison check follow.
    const err = info.normal ? null : rec.recordCrash(inc.n, info.cause!, info.reason, info.error);
    if (info.normal) rec.state = 'stopping';
    inc.ending = (async () => {
      await inc.worker.terminate();
      await inc.exited;
      // The old worker can no longer touch any ring: the main thread may act as their reader.
      this.#inc = null;
      this.#svc.wiring.unbind(this.id);
      if (err) {
        this.#poison = settleInFlight(this.#svc, this.id, rec.liveness, err, this.#poison, rec.spec.maxRedeliveries);
      } else {
        rec.state = 'stopped';
        this.#svc.emit({ type: 'stopped', actor: this.id, incarnation: inc.n, reason: info.reason });
      }
      rec.lastExit = { ...info, incarnation: inc.n };
      const pending = inc.pendingStart;
      inc.pendingStart = null;
      if (pending) pending.reject(startError ?? err ?? new ActorStoppedError(this.id, `stopped itself while starting (${info.reason})`));
      else this.onExit(rec.lastExit);
    })();
  }

  #markStopped(reason: string, inc: Incarnation | null): void {
    const rec = this.record;
    const was = rec.state;
    rec.state = 'stopped';
    if (inc && this.#inc === inc) this.#inc = null;
    this.#svc.wiring.unbind(this.id);
    inc?.pendingStart?.reject(new ActorStoppedError(this.id, `was stopped while starting (${reason})`));
    if (inc) inc.pendingStart = null;
    // Only a stop that ended a live incarnation is an event; an actor already down just stays down.
    if (was === 'running' || was === 'starting' || was === 'stopping') this.#svc.emit({ type: 'stopped', actor: this.id, incarnation: rec.incarnation, reason });
  }
}
