/** Busy-waits for `ms` and reports every gap between clock reads longer than `stallUs` (the thread was off the CPU). */
import { parentPort, workerData } from 'node:worker_threads';
import type { StallReport } from '../lib/machine.js';

const { ms, stallUs } = workerData as { ms: number; stallUs: number };
const limit = stallUs / 1000;
let stalls = 0;
let stalledMs = 0;
let maxStallMs = 0;
const start = performance.now();
const end = start + ms;
let last = start;
while (last < end) {
  const t = performance.now();
  const gap = t - last;
  if (gap > limit) {
    stalls++;
    stalledMs += gap;
    if (gap > maxStallMs) maxStallMs = gap;
  }
  last = t;
}
const report: StallReport = { stalls, stalledMs, maxStallMs, spinMs: last - start };
parentPort!.postMessage(report);
