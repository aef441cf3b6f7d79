import type { CrashCause } from '../errors.js';
import { availableParallelism } from 'node:os';
import { oversubscription, type ThreadTimes } from '../liveness/run-queue.js';
import { F64_BUSY_SINCE, F64_HEARTBEAT_AT, HEARTBEAT, MSGS_FINISHED, MSGS_STARTED, STATE, ActorState, type Liveness } from '../liveness/liveness.js';

/** A booting worker gets at least this long before missed heartbeats count (module import, init), ms. */
export const BOOT_GRACE_MS = 5000;

/** On an oversubscribed machine the heartbeat limit grows with the runnable threads per core, up to this many times. */
export const MAX_HEARTBEAT_STRETCH = 10;

/** What the watchdog asks of the machine. */
export interface WatchdogMachine {
  /** Runnable threads per core, 1 or more (see run-queue.ts's oversubscription). */
  oversubscription(): number;
}

const CORES = availableParallelism();
const realMachine: WatchdogMachine = { oversubscription: () => oversubscription(CORES) };

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
  /**
   * Its thread's time so far on a CPU and waiting, runnable, for one (Linux's
   * schedstat); null when unknown. Read only while the actor shows no sign of life.
   */
  threadTimes(): ThreadTimes | null;
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
  /** Its thread's times at the last silent pass (null: not read since the last sign of life). */
  times: ThreadTimes | null;
  /** Of the silence since the last sign of life (from the first silent pass): what its thread spent waiting for a CPU and was not counted, and on a CPU, ms. */
  credited: number;
  ran: number;
  /** When the last pass looked at it (performance.now()). */
  seenAt: number;
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
 * Time its thread spent waiting for a CPU (a machine with more runnable
 * threads than cores) does not count as silence; and on such a machine
 * the limit stretches with the runnable threads per core (up to
 * MAX_HEARTBEAT_STRETCH times), for a thread can also wait seconds for a
 * lock that a thread waiting for a CPU holds (V8's one mutex behind every
 * Atomics.wait and notify of the process is such a lock).
 * Two diagnoses:
 * - no sign of life for `misses` periods: the event loop stalled (busy state
 *   tells it was inside a handler);
 * - a handler busy for longer than `deadlineMs`, even with the loop alive.
 */
export class Watchdog {
  readonly #entries = new Map<Watched, Entry>();
  readonly #machine: WatchdogMachine;
  #timer: NodeJS.Timeout | null = null;
  #tickMs = 0;
  /** When the last pass ran (performance.now()), 0 before the first. */
  #lastCheck = 0;

  constructor(machine: WatchdogMachine = realMachine) {
    this.#machine = machine;
  }

  watch(w: Watched, incarnation: number, probe: LoopProbe): void {
    const now = performance.now();
    this.#entries.set(w, {
      incarnation,
      probe,
      idle: probe.idleMs(),
      progress: -1,
      changedAt: now,
      since: now,
      booting: w.liveness.read(STATE) === ActorState.booting,
      times: null,
      credited: 0,
      ran: 0,
      seenAt: now,
    });
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
      const sincePass = now - e.seenAt;
      e.seenAt = now;
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
          e.times = null;
          e.credited = 0;
          e.ran = 0;
          // What status and /health show as the heartbeat: the last sign of life seen, and how many.
          Atomics.add(live.i32, HEARTBEAT, 1);
          live.f64[F64_HEARTBEAT_AT] = wall;
        } else {
          const booting = live.read(STATE) === ActorState.booting;
          // Boot is over: its long grace does not carry into the running
          // incarnation's first periods (they start counting now).
          if (e.booting && !booting) e.changedAt = now;
          e.booting = booting;
          this.#creditRunQueue(e, sincePass, late);
          const silent = now - e.changedAt;
          const bound = booting ? Math.max(limit, BOOT_GRACE_MS) : limit;
          // Past the bound, and only then, ask how busy the machine is: one read of /proc/loadavg.
          const stretch = silent > bound ? Math.min(MAX_HEARTBEAT_STRETCH, this.#machine.oversubscription()) : 1;
          if (silent > bound * stretch) {
            const where = live.read(STATE) === ActorState.busy ? 'blocked inside a handler' : booting ? 'blocked while booting' : 'stalled';
            this.#entries.delete(w);
            // What its thread did meanwhile tells a computing handler (CPU time) from one blocked on a lock or I/O (none).
            const waitedNote = e.times === null ? '' : `; its thread ran ${Math.round(e.ran)} ms on a CPU and waited ${Math.round(e.credited)} ms more for one`;
            const stretchNote = stretch > 1 ? `, ×${stretch.toFixed(1)} for a machine with ${stretch.toFixed(1)} runnable threads per core` : '';
            w.stalled(e.incarnation, 'heartbeat', `event loop ${where}: no heartbeat for ${Math.round(silent)} ms (${hb.misses} × ${hb.intervalMs} ms${stretchNote}${waitedNote})`);
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

  /**
   * A silent actor's thread that waited for a CPU (more runnable threads
   * than cores) was not silent by its own doing: that wait since the last
   * pass is not counted as silence, beyond what the watchdog's own lateness
   * already took off. A thread blocked inside a handler (an Atomics.wait, a
   * lock) or spinning in one with a core to itself waits for no CPU and is
   * caught as before; one spinning on a starved machine is caught once it
   * has had `misses` periods of CPU time.
   */
  #creditRunQueue(e: Entry, sincePass: number, late: number): void {
    const t = e.probe.threadTimes();
    if (t === null) return;
    const before = e.times;
    if (before !== null) {
      e.ran += Math.max(0, t.cpuMs - before.cpuMs);
      const credit = Math.min(t.waitMs - before.waitMs, sincePass) - Math.max(0, late);
      if (credit > 0) {
        e.changedAt += credit;
        e.credited += credit;
      }
    }
    e.times = t;
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
