import { getHeapStatistics } from 'node:v8';
import { isDefinedActor, type DefinedActor } from '../actor/define.js';
import { ModuleLoadError } from '../errors.js';
import { F64_HEAP_USED_MB, THREAD_ID, type Liveness } from '../liveness/liveness.js';
import { osThreadId } from '../liveness/run-queue.js';
import type { HostBoot } from './protocol.js';

/** For the worker's entry: its control port holds the event loop open (src/ring/wait.ts). */
export { loopHeldElsewhere } from '../ring/wait.js';

/** Heap figures for health and metrics are taken this often at most, ms. */
const HEAP_SAMPLE_MS = 250;

/**
 * The worker's OS thread id and the V8 heap figure of the liveness block,
 * the heap refreshed by the host when it works: on start, then at most
 * every HEAP_SAMPLE_MS as it yields between messages and as it goes idle.
 * An idle actor's heap does not move; nothing wakes the worker to measure it.
 */
export class HeapSampler {
  readonly #live: Liveness;
  #at = -Infinity;

  constructor(live: Liveness) {
    this.#live = live;
    // Which OS thread this incarnation runs on: the watchdog reads its wait for a CPU from it.
    Atomics.store(live.i32, THREAD_ID, osThreadId());
    this.sample(performance.now());
  }

  sample(now: number): void {
    if (now - this.#at < HEAP_SAMPLE_MS) return;
    this.#at = now;
    this.#live.f64[F64_HEAP_USED_MB] = getHeapStatistics().used_heap_size / 1048576;
  }
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
