import { getHeapStatistics } from 'node:v8';
import { isDefinedActor, type DefinedActor } from '../actor/define.js';
import { ModuleLoadError } from '../errors.js';
import { F64_HEAP_USED_MB, F64_HEARTBEAT_AT, HEARTBEAT, type Liveness } from '../liveness/liveness.js';
import type { HostBoot } from './protocol.js';

/** Heap figures for health and metrics are taken this often at most, ms. */
const HEAP_SAMPLE_MS = 250;

/**
 * Start the heartbeat of `live`: a counter bumped from a timer, so the
 * watchdog sees the event loop turning without asking the worker anything.
 * Returns the timer (null when `heartbeatMs` is 0: no heartbeat).
 */
export function startHeartbeat(live: Liveness, heartbeatMs: number): NodeJS.Timeout | null {
  // A first heap figure now: the heartbeat refreshes it, and without heartbeats this is the only one.
  live.f64[F64_HEAP_USED_MB] = getHeapStatistics().used_heap_size / 1048576;
  if (heartbeatMs <= 0) return null;
  let beats = 0;
  const heapEvery = Math.max(1, Math.round(HEAP_SAMPLE_MS / heartbeatMs));
  live.f64[F64_HEARTBEAT_AT] = Date.now();
  return setInterval(() => {
    Atomics.add(live.i32, HEARTBEAT, 1);
    live.f64[F64_HEARTBEAT_AT] = Date.now();
    if (beats++ % heapEvery === 0) live.f64[F64_HEAP_USED_MB] = getHeapStatistics().used_heap_size / 1048576;
  }, heartbeatMs);
}

/** Import the actor's module: its definition, or the ModuleLoadError to crash with. */
export async function loadActor(b: HostBoot): Promise<DefinedActor | ModuleLoadError> {
  let mod: { default?: unknown };
  try {
    mod = (await import(b.moduleUrl)) as { default?: unknown };
  } catch (err) {
    return new ModuleLoadError(`actor '${b.id}': cannot load ${b.moduleUrl}: ${(err as Error).message}`, { cause: err });
  }
  if (!isDefinedActor(mod.default)) return new ModuleLoadError(`actor '${b.id}': ${b.moduleUrl} has no default export made by defineActor()`);
  return mod.default;
}
