/**
 * What a run leaves behind: threads (Node 20 lists no Worker among its active
 * resources, so worker threads are counted from /proc), active resources
 * (timers and handles keeping the loop alive) and memory after a full GC.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null = null;

/** The main thread's full GC: --expose-gc's, or the same function exposed at run time. */
export function fullGc(): { forced: boolean } {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        return { forced: false };
      }
    }
  }
  gcFn();
  return { forced: true };
}

/** Threads of this process (main, libuv pool, V8 platform, one per worker); NaN off Linux. */
export function threadCount(): number {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Active resources by type ('Timeout', 'TCPWrap', …), as process.getActiveResourcesInfo() lists them. */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** `after` minus `before`, types whose count grew only. */
export function grown(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(after)) if (n > (before[k] ?? 0)) out[k] = n - (before[k] ?? 0);
  return out;
}

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

const mb = (x: number): number => Math.round((x / 1048576) * 10) / 10;

export function memorySample(): MemorySample {
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers) };
}
