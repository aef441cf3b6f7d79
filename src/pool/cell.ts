import { Piscina } from 'piscina';
import type { ActorHealth } from '../actor/define.js';
import { errorEnvelope, replyEnvelope } from '../actor/reply.js';
import { fromWire } from '../actor/wire-error.js';
import type { CellServices, ChildCell, PoolStats, StandbyState } from '../cell/contract.js';
import { CellBase } from '../cell/base.js';
import { prepareWorkerIsolates } from '../cell/isolates.js';
import { expectsReply, type Envelope } from '../codec/envelope.js';
import { ActorCrashedError, ActorStoppedError, MailboxFullError, ModuleLoadError, type CrashCause } from '../errors.js';
import { MSGS_FINISHED, MSGS_SENT, MSGS_STARTED } from '../liveness/liveness.js';
import type { ResolvedChildSpec } from '../supervisor/spec.js';
import { undecodableError } from '../transport/decoding.js';
import { Inbox } from '../transport/inbox.js';
import { currentTrace, MessageTracer } from '../trace/tracing.js';
import { POOL_WORKER_PROBE, taskFailure, taskOutput, type PoolWorkerData, type TaskResult, type TracedTask } from './protocol.js';

/** Longest the pool's reader sleeps between checks when no sender rings, ms. */
const PARK_MS = 1000;

interface Generation {
  n: number;
  pool: Piscina;
  inbox: Inbox;
  /** Set when this pool ends; its reader stops taking mail. */
  ended: boolean;
  /** Tasks handed to the pool and not settled yet (queued or running). */
  inPool: number;
  /** Resolves at the next task's end; made only when someone waits (a full reader, a draining stop). */
  settled: Promise<void> | null;
  wakeSettled: (() => void) | null;
}

/**
 * A pool actor: a stateless handler run on a piscina pool instead of one
 * worker. Its inbox is like any actor's (senders write straight into its
 * rings, mailbox bound and overflow policy included); the main thread reads
 * it and hands each message to the pool as a task. When the pool's queue is
 * full the reader stops taking mail, so the inbox fills and the mailbox's
 * overflow policy decides what senders get.
 *
 * A task whose handler throws is answered with the error (like an ask
 * answered with an error). A worker that dies (exit, out of heap, an
 * uncaught error) is the actor's crash: counted by cause, reported, and the
 * supervisor's strategy applies; a restart is a new pool. Messages taken
 * into the dead pool's queue are lost with it (asks among them settle with
 * ActorCrashedError); messages still in the inbox wait for the next pool.
 */
export class PoolCell extends CellBase implements ChildCell {
  readonly #svc: CellServices;
  /** The span of each task; null while tracing is off. */
  readonly #tracer: MessageTracer | null;
  #gen: Generation | null = null;
  #stopping: Promise<void> | null = null;
  #failed = 0;
  #completed = 0;

  constructor(spec: ResolvedChildSpec, parent: string, moduleUrl: string, svc: CellServices) {
    super(spec, parent, moduleUrl, svc);
    this.#svc = svc;
    this.#tracer = svc.tracing ? new MessageTracer({ actor: this.id, incarnation: 0 }) : null;
  }


  alive(): boolean {
    return this.#gen !== null;
  }

  standbyState(): StandbyState {
    return 'none';
  }

  uptimeMs(): number {
    return this.#gen ? this.record.uptimeMs() : 0;
  }

  /** A pool's threads have no control port of ours. */
  post(): boolean {
    return false;
  }

  utilization(): number {
    return this.#gen?.pool.utilization ?? 0;
  }

  async health(): Promise<ActorHealth | null> {
    return this.#gen ? { status: 'healthy', details: { ...this.stats() } } : null;
  }

  /** A pool's handler is stateless: a new config applies from the next task of the next pool. */
  async configure(config: unknown): Promise<void> {
    this.record.spec.config = config;
  }

  setLogLevel(level: string | undefined): void {
    this.record.spec.logLevel = level;
  }

  replaceSpec(spec: ResolvedChildSpec, moduleUrl: string): void {
    this.record.replaceSpec(spec, moduleUrl);
  }

  retire(reason: string): void {
    this.record.retire(new ActorStoppedError(this.id, `is stopped (${reason})`));
  }

  /** The pool is destroyed (its threads gone) before a stop or crash is done with it. */
  async quiesce(): Promise<void> {
    if (this.#stopping) await this.#stopping;
  }

  poolStats(): PoolStats {
    return this.stats();
  }

  stats(): PoolStats {
    const pool = this.#gen?.pool;
    return {
      threads: pool?.threads.length ?? 0,
      queueSize: pool?.queueSize ?? 0,
      running: this.#gen?.inPool ?? 0,
      utilization: pool ? Math.round(pool.utilization * 1000) / 1000 : 0,
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  async start(): Promise<void> {
    if (this.#stopping) await this.#stopping;
    const svc = this.#svc;
    const rec = this.record;
    const p = rec.spec.pool!;
    const n = rec.beginIncarnation();
    const workerData: PoolWorkerData = { moduleUrl: rec.moduleUrl, id: this.id, tracing: svc.tracing };
    prepareWorkerIsolates();
    const pool = new Piscina({
      filename: svc.poolWorkerUrl.href,
      workerData,
      minThreads: p.minThreads,
      maxThreads: p.maxThreads,
      maxQueue: p.maxQueue,
      idleTimeout: p.idleTimeoutMs,
      ...(rec.spec.resourceLimits ? { resourceLimits: rec.spec.resourceLimits } : {}),
    });
    try {
      await pool.run(null, { name: POOL_WORKER_PROBE });
    } catch (err) {
      await pool.destroy().catch(() => {});
      const reason = (err as Error).message;
      rec.recordCrash(n, 'module', reason);
      rec.lastExit = { normal: false, cause: 'module', reason, incarnation: n };
      // A pool whose module cannot load would fail the same way on every start: no retry.
      throw new ModuleLoadError(`pool '${this.id}': ${reason}`, { cause: err });
    }
    const doorbell = svc.wiring.switchboard.describe(this.id).doorbell;
    const inbox = new Inbox(doorbell, {
      id: this.id,
      codec: svc.codec,
      spinMicros: 0,
      onShed: (env) => this.#shed(env),
      onUndecodable: (_slot, e, raw, header) => {
        const err = undecodableError(this.id, e, header);
        svc.deadLetter({ kind: header?.kind ?? 'tell', from: header?.from ?? '?', to: this.id, id: header?.id ?? 0, payload: raw, reason: err.message });
        if (header && expectsReply(header.kind)) this.#reply(header, undefined, err);
      },
    });
    const gen: Generation = { n, pool, inbox, ended: false, inPool: 0, settled: null, wakeSettled: null };
    this.#gen = gen;
    svc.wiring.bindLocal(this.id, inbox);
    // An uncaught error in a worker with no task of ours on it still kills that worker.
    pool.on('error', (err: Error) => this.#crash(gen, 'exception', `pool worker failed: ${err.message}`));
    rec.markRunning(n);
    void this.#read(gen);
  }

  stop(reason: string, drain: boolean): Promise<void> {
    this.#stopping ??= this.#stop(reason, drain).finally(() => (this.#stopping = null));
    return this.#stopping;
  }

  async #stop(reason: string, drain: boolean): Promise<void> {
    const gen = this.#gen;
    if (!gen) {
      this.record.state = 'stopped';
      return;
    }
    this.record.state = 'stopping';
    const shutdown = this.record.spec.shutdown;
    if (shutdown !== 'brutal_kill') {
      // Draining: the reader goes on until the inbox is empty; then every task finishes. Bounded by `shutdown`.
      let timer: NodeJS.Timeout | undefined;
      let late = false;
      const limit = shutdown === 'infinity' ? null : new Promise<void>((r) => (timer = setTimeout(() => r(void (late = true)), shutdown)));
      const settle = async (): Promise<void> => {
        while (drain && !late && !gen.ended && gen.inbox.depth() > 0) await new Promise((r) => setTimeout(r, 5));
        gen.ended = true;
        gen.inbox.doorbell.wake();
        while (!late && gen.inPool > 0) await this.#nextSettled(gen);
      };
      await Promise.race([settle(), ...(limit ? [limit] : [])]);
      clearTimeout(timer);
    }
    await this.#end(gen);
    this.record.state = 'stopped';
    this.#svc.emit({ type: 'stopped', actor: this.id, incarnation: gen.n, reason });
  }

  /** Tear a pool down: its pool, its reader, the asks of tasks still in it. */
  async #end(gen: Generation): Promise<void> {
    gen.ended = true;
    if (this.#gen === gen) this.#gen = null;
    gen.inbox.doorbell.wake();
    this.#svc.wiring.unbindLocal(this.id);
    await gen.pool.destroy().catch(() => {});
  }

  #crash(gen: Generation, cause: CrashCause, reason: string): void {
    if (gen.ended || this.#gen !== gen) return;
    this.record.recordCrash(gen.n, cause, reason);
    const info = { normal: false, cause, reason, incarnation: gen.n };
    this.record.lastExit = info;
    void this.#end(gen).then(() => this.onExit(info));
  }

  /** The reader: take mail while the pool has room, park when there is none. */
  async #read(gen: Generation): Promise<void> {
    while (!gen.ended) {
      this.#pump(gen);
      if (gen.ended) break;
      // Full: wait for a task to end (mail waits in the inbox meanwhile); otherwise for a sender to ring.
      if (this.#full(gen)) await this.#nextSettled(gen);
      else await gen.inbox.waitForWorkAsync(PARK_MS);
    }
  }

  /** Every thread busy and the queue at its bound. */
  #full(gen: Generation): boolean {
    const p = this.record.spec.pool!;
    return gen.inPool >= p.maxThreads + p.maxQueue;
  }

  /** Hand waiting mail to the pool while it has room. Returns how many. */
  #pump(gen: Generation): number {
    let n = 0;
    while (!gen.ended && !this.#full(gen)) {
      const env = gen.inbox.nextMail();
      if (!env) break;
      // A task owns its message from here: the pool, not the ring, holds it.
      gen.inbox.releaseMail();
      this.#task(gen, env);
      n++;
    }
    return n;
  }

  /**
   * One message becomes one task. No promise chain beyond piscina's own: one
   * `then` settles the task (no `finally`, no set of promises to keep).
   */
  #task(gen: Generation, env: Envelope): void {
    Atomics.add(this.record.liveness.i32, MSGS_STARTED, 1);
    gen.inPool++;
    const started = performance.now();
    const t = this.#tracer;
    // Traced: a span on this thread from the task's start to its result; the task carries its context, so the handler's spans in the pool's worker nest under it.
    const task = t === null ? (gen.pool.run(env.payload) as Promise<TaskResult>) : t.run(env, (e) => gen.pool.run({ msg: e.payload, trace: currentTrace() } satisfies TracedTask) as Promise<TaskResult>, gen.n, (r: TaskResult) => taskFailure(r));
    void task.then(
      (r) => this.#done(gen, env, started, r),
      (err: Error) => this.#lost(gen, env, err),
    );
  }

  #done(gen: Generation, env: Envelope, started: number, r: TaskResult): void {
    const live = this.record.liveness;
    live.recordHandler(performance.now() - started);
    Atomics.add(live.i32, MSGS_FINISHED, 1);
    this.#completed++;
    this.#settle(gen);
    const error = taskFailure(r);
    if (error === undefined) {
      if (expectsReply(env.kind)) this.#reply(env, taskOutput(r));
      return;
    }
    this.#failed++;
    if (expectsReply(env.kind)) this.#reply(env, undefined, fromWire(error));
    else this.#svc.deadLetter({ kind: env.kind, from: env.from, to: this.id, id: env.id, payload: env.payload, reason: `pool task failed: ${error.message}` });
  }

  /** The worker died under this task (the handler's own errors come back as values). */
  #lost(gen: Generation, env: Envelope, err: Error): void {
    this.#settle(gen);
    const crashed = new ActorCrashedError(this.id, 'exit', err.message, gen.n);
    if (expectsReply(env.kind)) this.#reply(env, undefined, gen.ended ? new ActorStoppedError(this.id, `was stopped with the task queued (${err.message})`) : crashed);
    else this.#svc.deadLetter({ kind: env.kind, from: env.from, to: this.id, id: env.id, payload: env.payload, reason: `pool worker failed: ${err.message}` });
    if (!gen.ended) this.#crash(gen, /out of memory|heap/i.test(err.message) ? 'out-of-memory' : 'exit', err.message);
  }

  /** A task left the pool: room for the reader, progress for a draining stop. */
  #settle(gen: Generation): void {
    gen.inPool--;
    const wake = gen.wakeSettled;
    if (wake === null) return;
    gen.settled = gen.wakeSettled = null;
    wake();
  }

  #nextSettled(gen: Generation): Promise<void> {
    return (gen.settled ??= new Promise<void>((r) => (gen.wakeSettled = r)));
  }

  #reply(to: Pick<Envelope, 'from' | 'id'>, value: unknown, error?: Error): void {
    Atomics.add(this.record.liveness.i32, MSGS_SENT, 1);
    this.#svc.replyFromMain(error ? errorEnvelope(to, this.id, error) : replyEnvelope(to, this.id, value));
  }

  #shed(env: Envelope): void {
    const err = new MailboxFullError(this.id, 'drop-oldest', 'the oldest message was shed to make room for a newer one');
    if (expectsReply(env.kind)) this.#reply(env, undefined, err);
    this.#svc.deadLetter({ kind: env.kind, from: env.from, to: this.id, id: env.id, payload: env.payload, reason: err.message, dropped: 'drop-oldest' });
  }
}
