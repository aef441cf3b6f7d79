import { readFileSync, readlinkSync } from 'node:fs';

/** Linux reports per-thread times in USER_HZ ticks, which the kernel fixes at 100/s for user space. */
const MS_PER_TICK = 10;

function cpuMsFromStat(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return NaN;
  }
}

/**
 * CPU time (user + system) of the calling thread, in ms, from
 * /proc/thread-self/stat; NaN where that file does not exist. Resolution is one
 * tick (10 ms), so it is meant for phases lasting seconds.
 * process.cpuUsage() counts every thread of the process, and Node 20 has no
 * per-thread equivalent.
 */
export function threadCpuMs(): number {
  return cpuMsFromStat('/proc/thread-self/stat');
}

/** The calling thread's kernel id, so another thread can read its CPU time; null off Linux. */
export function threadId(): number | null {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return null;
  }
}

/** CPU time of thread `tid` of this process, ms (10 ms ticks); NaN if unknown. */
export function threadCpuMsOf(tid: number | null): number {
  return tid === null ? NaN : cpuMsFromStat(`/proc/self/task/${tid}/stat`);
}
