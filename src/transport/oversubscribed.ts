import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const CORES = availableParallelism();

/**
 * Threads the kernel has runnable right now, machine-wide, this one
 * included: the first number of /proc/loadavg's fourth field ("3/250").
 * -1 where that cannot be read (not Linux) or parsed.
 */
export function runnableNow(read: () => string = readLoadavg): number {
  try {
    const m = / (\d+)\/\d+ /.exec(read());
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/**
 * Asked when a spinning thread found itself descheduled mid-spin: did that
 * take the CPU from threads with work (more runnable threads than cores, or
 * no way to tell), or was it the hypervisor stealing the vCPU, or a kernel
 * thread passing by? Only the first is a reason to stop spinning: on a VM,
 * steal of 50 µs and more happens hundreds of times a second on an idle
 * machine, and a spinner that stopped for each would park through every gap.
 * Costs one read of /proc/loadavg (~14 µs).
 */
export function oversubscribed(runnable: number = runnableNow(), cores: number = CORES): boolean {
  return runnable < 0 || runnable > cores;
}

/** How long a thread goes on trusting its last look, ms. */
const FRESH_MS = 1;
let lookedAt = -Infinity;
let lastBusy = false;

/**
 * `oversubscribed()` as this thread last saw it, looked at again at most
 * once a millisecond, or now when `fresh` (a spin was just preempted): asked
 * before each spin a receiver considers (a look costs ~14 µs, so ~1 % of a
 * thread that spins all the time, and nothing for one that parks). A spin is
 * worth it only with a core free for it: on 2 cores, a main thread that spun
 * for its pool's replies while both pool threads computed took a third of
 * the CPU from them.
 */
export function oversubscribedLately(fresh = false, now: number = performance.now()): boolean {
  if (fresh || now - lookedAt >= FRESH_MS) {
    lookedAt = now;
    lastBusy = oversubscribed();
  }
  return lastBusy;
}

function readLoadavg(): string {
  return readFileSync('/proc/loadavg', 'latin1');
}
