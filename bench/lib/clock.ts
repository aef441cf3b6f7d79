/**
 * The one clock every thread of the benchmark stamps with, in milliseconds.
 *
 * In Node 20 a worker's `performance.timeOrigin` is the process's, so
 * `performance.now()` read on different threads lies on one monotonic time
 * line, with sub-microsecond resolution and no allocation (unlike
 * `process.hrtime.bigint()`). `clockOffsetMs` lets the main thread check that
 * claim at start-up instead of trusting it: every thread reports the offset of
 * performance.now() from CLOCK_MONOTONIC, and the offsets must agree.
 */
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** CLOCK_MONOTONIC (process.hrtime) minus performance.now(), ms, from the tightest of several bracketed reads. */
export function clockOffsetMs(): number {
  let bestWidth = Infinity;
  let offset = 0;
  for (let i = 0; i < 64; i++) {
    const a = process.hrtime.bigint();
    const p = performance.now();
    const b = process.hrtime.bigint();
    const width = b - a;
    if (Number(width) < bestWidth) {
      bestWidth = Number(width);
      offset = Number(a + width / 2n) / 1e6 - p;
    }
  }
  return offset;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Worker threads only: return at `due` (clock ms) as exactly as possible.
 * Sleeps while more than 1.5 ms remain (so a slow schedule does not burn a
 * core), then busy-waits the rest: a futex sleep overshoots by tens of µs.
 * Returns the time it returned at.
 */
export function waitUntil(due: number): number {
  let t = performance.now();
  if (due - t > 1.5) {
    Atomics.wait(sleepCell, 0, 0, due - t - 1);
    t = performance.now();
  }
  while (t < due) t = performance.now();
  return t;
}
