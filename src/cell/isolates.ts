import { setFlagsFromString } from 'node:v8';
import { InvalidOptionError } from '../errors.js';

/**
 * Once per process, before the first actor's worker starts: V8's memory
 * reducer is turned off for the isolates created from then on, unless
 * `RINGMASTER_MEMORY_REDUCER=on`.
 *
 * The memory reducer runs a full, memory-reducing garbage collection in an
 * isolate some 8 s after its old generation first grew, and again while it
 * allocates little: an actor's worker qualifies soon after it starts and
 * whenever it idles. Each such collection starts a sweep of the isolate's
 * C++ heap whose concurrent part waits on V8's pool of helper threads, one
 * pool for the whole process; until it ran, the isolate's thread re-posts a
 * sweeping task to itself in a tight loop (Node 20's V8), each post a wake-up
 * of its event loop. With many actors on few cores the pool is always busy,
 * and those loops took a fifth to a third of the machine (docs/benchmarks.md).
 *
 * Without it an idle actor keeps its garbage until its heap grows enough for
 * V8 to collect. Shared memory does not wait on that: a departed sender's
 * ring is handed to the slot's next sender (Switchboard), not left for the
 * receiver's next collection.
 * V8 reads the flag when it sets up an isolate's heap, so the main thread's
 * isolate keeps its reducer, and a worker started before keeps its own.
 */
export function prepareWorkerIsolates(): boolean {
  if (prepared === null) {
    prepared = !keepsMemoryReducer(process.env, process.execArgv);
    if (prepared) setFlagsFromString('--no-memory-reducer');
  }
  return prepared;
}

let prepared: boolean | null = null;

/** Whether actors' workers keep V8's memory reducer: with `RINGMASTER_MEMORY_REDUCER=on`, or when node was started with `--memory-reducer`. */
export function keepsMemoryReducer(env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  const v = env.RINGMASTER_MEMORY_REDUCER;
  if (v !== undefined && v !== 'on' && v !== 'off') throw new InvalidOptionError('RINGMASTER_MEMORY_REDUCER', `must be 'on' or 'off', got '${v}'`);
  return v === 'on' || execArgv.some((a) => a === '--memory-reducer' || a === '--memory_reducer');
}
