/**
 * What the machine itself contributes to the numbers. On a small VM a
 * busy-waiting thread is now and then descheduled for milliseconds whatever
 * it runs; those stalls, not the transports, set most p99.9 values. Other
 * processes competing for the two cores would do the same, so their share is
 * recorded too.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { track } from './peer.js';
import { round2 } from './stats.js';

export interface StallReport {
  /** Gaps longer than STALL_US between two consecutive clock reads of a spinning thread. */
  stalls: number;
  stalledMs: number;
  maxStallMs: number;
  spinMs: number;
}

export const STALL_US = 50;

/** Busy time of the whole machine (every process, every CPU) so far, ms; NaN off Linux. */
export function machineBusyMs(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait, in 10 ms ticks.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return NaN;
  }
}

export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Spins `threads` workers for `ms` each and reports how often and how long they were kept off the CPU. */
export async function probeStalls(threads: number, ms: number): Promise<StallReport & { threads: number }> {
  const script = new URL('../workers/spin-probe.js', import.meta.url);
  const reports = await Promise.all(
    Array.from({ length: threads }, () => {
      const w = track(new Worker(script, { workerData: { ms, stallUs: STALL_US } }));
      return new Promise<StallReport>((resolve, reject) => {
        w.once('message', (r: StallReport) => {
          resolve(r);
          void w.terminate();
        });
        w.once('error', reject);
      });
    }),
  );
  return {
    threads,
    stalls: reports.reduce((s, r) => s + r.stalls, 0),
    stalledMs: round2(reports.reduce((s, r) => s + r.stalledMs, 0)),
    maxStallMs: round2(Math.max(...reports.map((r) => r.maxStallMs))),
    spinMs: round2(reports.reduce((s, r) => s + r.spinMs, 0)),
  };
}

/** Measures `fn` and how much CPU other processes took meanwhile, as a % of the whole machine. */
export async function withOtherLoad<T>(cpus: number, fn: () => Promise<T>): Promise<{ value: T; otherLoadPct: number }> {
  const m0 = machineBusyMs();
  const p0 = processCpuMs();
  const t0 = performance.now();
  const value = await fn();
  const other = machineBusyMs() - m0 - (processCpuMs() - p0);
  const otherLoadPct = round2(Math.max(0, (other / ((performance.now() - t0) * cpus)) * 100));
  return { value, otherLoadPct };
}
