import { setFlagsFromString } from 'node:v8';
import { InvalidOptionError } from '../errors.js';

/**
 * Once per process, before the first actor's worker starts: V8's memory
 * reducer is turned off for the isolates created from then on.
 *
 * The memory reducer runs a full, memory-reducing garbage collection in an
 * isolate some 8 s after its old generation first grew, and again while it
 * allocates little: an actor's worker qualifies soon after it starts and
 * whenever it idles. Each such collection starts a sweep of the isolate's
 * C++ heap whose concurrent part waits on V8's pool of helper threads, one
 * pool for the whole process; until it ran, the isolate's thread re-posts a
 * sweeping task to itself in a tight loop (Node 20's V8), each post a wake-up
 * of its event loop. With many actors on few cores the pool is always busy,
 * and those loops took a third of the machine: a 200-actor run of
 * `bench:scale` random-pairs-max did 46–91 full collections in 10 runs with
 * the reducer and 5–7 without, and the sweep loops' share of its CPU profile
 * fell from ~20 % to under 0.1 % (docs/benchmarks.md).
 *
 * V8 reads the flag when it sets up an isolate's heap, so the main thread's
 * isolate keeps its reducer, and a worker started before (by the
 * application, or a pool) keeps its own. `RINGMASTER_MEMORY_REDUCER=on`, or
 * `node --memory-reducer`, keeps it on for the workers too.
 */
export function prepareWorkerIsolates(): boolean {
  if (prepared === null) {
    prepared = !keepsMemoryReducer(process.env, process.execArgv);
    if (prepared) setFlagsFromString('--no-memory-reducer');
  }
  return prepared;
}

let prepared: boolean | null = null;

/** Whether the user asked for V8's memory reducer in actors' workers: `RINGMASTER_MEMORY_REDUCER=on`, or `node --memory-reducer`. */
export function keepsMemoryReducer(env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  const v = env.RINGMASTER_MEMORY_REDUCER;
  if (v !== undefined && v !== 'on' && v !== 'off') throw new InvalidOptionError('RINGMASTER_MEMORY_REDUCER', `must be 'on' or 'off', got '${v}'`);
  return v === 'on' || execArgv.some((a) => a === '--memory-reducer' || a === '--memory_reducer');
}
