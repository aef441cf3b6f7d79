import type { CrashCause } from '../errors.js';
import { F64_BUSY_SINCE, F64_HEARTBEAT_AT, HEARTBEAT, MSGS_FINISHED, MSGS_STARTED, STATE, ActorState, type Liveness } from '../liveness/liveness.js';

/** A booting worker gets at least this long before missed heartbeats count (module import, init), ms. */
export const BOOT_GRACE_MS = 5000;

/** What the watchdog needs of an actor. */
export interface Watched {
  readonly id: string;
  readonly liveness: Liveness;
  readonly spec: { heartbeat: { intervalMs: number; misses: number } | null; deadlineMs: number };
  stalled(incarnation: number, cause: CrashCause, reason: string): void;
}

/** How the watchdog sees an incarnation's event loop, without asking the worker anything. */
export interface LoopProbe {
  /** Its event-loop idle time so far, ms: the worker's own libuv figure, read from this thread (0 before its loop starts). */
  idleMs(): number;
  /** Parked on its doorbell, nothing rung since: most likely waiting for mail in its event loop. Reading it is far cheaper than idleMs. */
  parked(): boolean;
}

interface Entry {
  incarnation: number;
  probe: LoopProbe;
  idle: number;
  progress: number;
  changedAt: number;
  since: number;
  /** The actor was booting at the last pass. */
  booting: boolean;
}

/**
 * Reads every watched actor's liveness counters from shared memory, and its
 * worker's event-loop idle time from libuv, on one main-thread timer; it
 * never asks a worker anything and the worker runs no timer for it, so an
 * idle actor stays asleep and a worker whose event loop is blocked is still
 * caught. A handler that started or finished, or a loop that waited for
 * events since the last look (its idle time grew), is a sign of life; a loop
 * that did neither ran JavaScript the whole time without finishing anything.
 * An actor parked on its doorbell is looked at twice per `misses` periods
 * rather than every pass (the parked flag is one shared-memory read, the idle
 * time a call into the worker's libuv): a loop that blocks while parked (a
 * user's timer that never returns) is seen within 1.5 × misses × period.
 * Two diagnoses:
 * - no sign of life for `misses` periods: the event loop stalled (busy state
 *   tells it was inside a handler);
 * - a handler busy for longer than `deadlineMs`, even with the loop alive.
 */
export class Watchdog {
  readonly #entries = new Map<Watched, Entry>();
  #timer: NodeJS.Timeout | null = null;
  #tickMs = 0;
  /** When the last pass ran (performance.now()), 0 before the first. */
  #lastCheck = 0;

  watch(w: Watched, incarnation: number, probe: LoopProbe): void {
    const now = performance.now();
    this.#entries.set(w, { incarnation, probe, idle: probe.idleMs(), progress: -1, changedAt: now, since: now, booting: w.liveness.read(STATE) === ActorState.booting });
    this.#schedule();
  }

  unwatch(w: Watched): void {
    this.#entries.delete(w);
    if (this.#entries.size === 0) this.#stopTimer();
  }

  close(): void {
    this.#entries.clear();
    this.#stopTimer();
  }

  /** One pass over every watched actor (the timer calls it; tests may too). */
  check(now = performance.now()): void {
    const wall = performance.timeOrigin + now;
    // A tick that comes late means this thread was not running (a GC pause,
    // a machine busy with other work): the workers were most likely starved
    // as well, so the time the watchdog itself lost is not counted as their
    // silence. Only silence the watchdog was awake to see is.
    const late = this.#lastCheck > 0 && this.#tickMs > 0 ? now - this.#lastCheck - 2 * this.#tickMs : 0;
    this.#lastCheck = now;
    for (const [w, e] of this.#entries) {
      if (late > 0) e.changedAt += late;
      const hb = w.spec.heartbeat;
      const live = w.liveness;
      if (hb) {
        const limit = hb.misses * hb.intervalMs;
        const progress = live.read(MSGS_STARTED) + live.read(MSGS_FINISHED);
        let alive = progress !== e.progress;
        e.progress = progress;
        if (!alive && (now - e.changedAt >= limit / 2 || !e.probe.parked())) {
          const idle = e.probe.idleMs();
          alive = idle !== e.idle;
          e.idle = idle;
        }
        if (alive) {
          e.changedAt = now;
          // What status and /health show as the heartbeat: the last sign of life seen, and how many.
          Atomics.add(live.i32, HEARTBEAT, 1);
          live.f64[F64_HEARTBEAT_AT] = wall;
        } else {
          const booting = live.read(STATE) === ActorState.booting;
          // Boot is over: its long grace does not carry into the running
          // incarnation's first periods (they start counting now).
          if (e.booting && !booting) e.changedAt = now;
          e.booting = booting;
          const silent = now - e.changedAt;
          if (silent > (booting ? Math.max(limit, BOOT_GRACE_MS) : limit)) {
            const where = live.read(STATE) === ActorState.busy ? 'blocked inside a handler' : booting ? 'blocked while booting' : 'stalled';
            this.#entries.delete(w);
            w.stalled(e.incarnation, 'heartbeat', `event loop ${where}: no heartbeat for ${Math.round(silent)} ms (${hb.misses} × ${hb.intervalMs} ms)`);
            continue;
          }
        }
      }
      const busySince = live.f64[F64_BUSY_SINCE]!;
      if (w.spec.deadlineMs > 0 && busySince > 0 && wall - busySince > w.spec.deadlineMs) {
        this.#entries.delete(w);
        w.stalled(e.incarnation, 'deadline', `handler ran ${Math.round(wall - busySince)} ms, past its ${w.spec.deadlineMs} ms deadline`);
      }
    }
  }

  #schedule(): void {
    let tick = Infinity;
    for (const w of this.#entries.keys()) {
      // A quarter period: a stall is then seen within misses × period plus a quarter period.
      if (w.spec.heartbeat) tick = Math.min(tick, w.spec.heartbeat.intervalMs / 4);
      if (w.spec.deadlineMs > 0) tick = Math.min(tick, Math.max(5, w.spec.deadlineMs / 4));
    }
    if (!Number.isFinite(tick)) return this.#stopTimer();
    tick = Math.max(2, Math.round(tick));
    if (this.#timer && tick === this.#tickMs) return;
    this.#stopTimer();
    this.#tickMs = tick;
    this.#timer = setInterval(() => this.check(), tick);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#tickMs = 0;
    this.#lastCheck = 0;
  }
}
