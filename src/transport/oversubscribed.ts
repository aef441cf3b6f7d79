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
 * Costs one read of /proc/loadavg (~10 µs); asked once per preempted spin.
 */
export function oversubscribed(runnable: number = runnableNow(), cores: number = CORES): boolean {
  return runnable < 0 || runnable > cores;
}

function readLoadavg(): string {
  return readFileSync('/proc/loadavg', 'latin1');
}
