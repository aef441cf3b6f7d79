/**
 * How long a thread waited for a CPU: Linux's per-thread scheduler figures
 * (`/proc/self/task/<tid>/schedstat`: time on a CPU, time runnable but
 * waiting for one, slices; in ns). On a machine with more runnable threads
 * than cores a healthy worker can wait seconds for its turn; the watchdog
 * counts that wait as the machine's, not as the worker's silence. Elsewhere
 * (no /proc) the figures are null and nothing is compensated.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** This thread's OS thread id (its worker writes it into its liveness block), 0 where none can be learnt. */
export function osThreadId(): number {
  try {
    // "<pid>/task/<tid>"
    const link = readlinkSync('/proc/thread-self');
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : 0;
  } catch {
    return 0;
  }
}

/** What thread `tid` of this process has spent so far, ms: on a CPU, and runnable but waiting for one. */
export interface ThreadTimes {
  cpuMs: number;
  waitMs: number;
}

/** Thread `tid`'s times; null if unknown (no such thread, no /proc). */
export function threadTimes(tid: number): ThreadTimes | null {
  if (!(tid > 0)) return null;
  try {
    const fields = readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ');
    const cpuNs = Number(fields[0]);
    const waitNs = Number(fields[1]);
    return Number.isFinite(cpuNs) && Number.isFinite(waitNs) ? { cpuMs: cpuNs / 1e6, waitMs: waitNs / 1e6 } : null;
  } catch {
    return null;
  }
}

/**
 * How oversubscribed the machine is: runnable threads (now, or over the
 * last minute's load average, whichever is more) per core, from
 * /proc/loadavg; 1 where it cannot be read. Threads of a machine at 20 per
 * core wait for a CPU, and for locks that threads waiting for a CPU hold.
 */
export function oversubscription(cores: number, read: () => string = () => readFileSync('/proc/loadavg', 'latin1')): number {
  try {
    const f = read().split(' ');
    const load1 = Number(f[0]);
    const runnable = Number(f[3]?.split('/')[0]);
    const busiest = Math.max(Number.isFinite(load1) ? load1 : 0, Number.isFinite(runnable) ? runnable : 0);
    return cores > 0 ? Math.max(1, busiest / cores) : 1;
  } catch {
    return 1;
  }
}
