import { MAX_TIMEOUT_MS } from '../defaults.js';

/** How an `Atomics.waitAsync` ended. */
export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';

/**
 * `Atomics.waitAsync(i32, index, value, timeoutMs)` for any thread, with the
 * event loop held open while the wait is pending.
 *
 * Node 20 does not count a pending `waitAsync` as keeping the loop alive: a
 * thread whose only pending work is the wait would exit under it (or a main
 * thread end its process) before the other side ever wakes it. A timer is held
 * for the duration of the wait, set a second past its time limit so that the
 * wait's own timeout always settles it first.
 *
 * A wait that settles at once (the value had changed already) comes back as
 * the outcome itself, not a promise: the caller goes on in the same turn and
 * no timer is set.
 */
export function waitAsync(i32: Int32Array, index: number, value: number, timeoutMs: number): WaitOutcome | Promise<WaitOutcome> {
  const waiter = Atomics.waitAsync(i32, index, value, timeoutMs);
  if (!waiter.async) return waiter.value;
  if (heldElsewhere) return waiter.value;
  return held(waiter.value, Number.isFinite(timeoutMs) ? Math.min(timeoutMs + 1000, MAX_TIMEOUT_MS) : MAX_TIMEOUT_MS);
}

/** This thread's event loop is held open by something that outlives every wait of it. */
let heldElsewhere = false;

/**
 * Say that this thread's event loop stays open without the waits' help (an
 * actor's worker: its control port, listened to for the thread's whole life,
 * holds it). Its waits then set no timer: a timer set and cleared per wait
 * costs ~8 µs of CPU a park on a 2-core VM, a third of a whole wake-up.
 */
export function loopHeldElsewhere(): void {
  heldElsewhere = true;
}

async function held(pending: Promise<WaitOutcome>, holdMs: number): Promise<WaitOutcome> {
  const keepAlive = setTimeout(noop, holdMs);
  try {
    return await pending;
  } finally {
    clearTimeout(keepAlive);
  }
}

function noop(): void {}
