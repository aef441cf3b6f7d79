/**
 * The pool actor's worker boundary, both sides: what piscina's worker
 * (workers/pool-worker.ts) exports and what the pool cell calls it with.
 */
import type { WireError } from '../actor/wire-error.js';
import type { TracingBoot } from '../trace/tracing.js';

/**
 * Key of a tagged task result. A handler's value goes back as it is (no
 * wrapper to clone on every task); only a handler's error, and a value that
 * is itself an object with this key, go back tagged.
 */
export const TASK_TAG = '$ringmaster.task';

/** A task result that is not the handler's bare value. */
export interface TaggedResult {
  [TASK_TAG]: 'value' | 'error';
  value?: unknown;
  error?: WireError;
}

/**
 * What a task resolves with: the handler's value, or a TaggedResult. The
 * handler's own errors come back as values, so a rejected task means the
 * worker failed.
 */
export type TaskResult = unknown;

/** Worker side: the result for a handler's `value`. */
export function taskValue(value: unknown): TaskResult {
  return isTagged(value) ? { [TASK_TAG]: 'value', value } : value;
}

/** Worker side: the result for a handler's error. */
export function taskError(error: WireError): TaggedResult {
  return { [TASK_TAG]: 'error', error };
}

/** Main-thread side: the handler's error that result `r` carries, or undefined when it carries a value. */
export function taskFailure(r: TaskResult): WireError | undefined {
  return isTagged(r) && r[TASK_TAG] === 'error' ? r.error : undefined;
}

/** Main-thread side: the handler's value in result `r` (one without a failure). */
export function taskOutput(r: TaskResult): unknown {
  return isTagged(r) ? r.value : r;
}

function isTagged(r: unknown): r is TaggedResult {
  return typeof r === 'object' && r !== null && Object.hasOwn(r, TASK_TAG);
}

/** Named exports of the pool worker that piscina runs by `name`; the default export runs one message. */
export const POOL_WORKER_PROBE = 'probe';

/** What the pool worker gets as `workerData`. */
export interface PoolWorkerData {
  moduleUrl: string;
  id: string;
  /** Tracing on in the pool's workers (each imports the setup module first); absent or null = off, and a task is the message itself. */
  tracing?: TracingBoot | null;
}

/** A task while tracing is on: the message and the trace context of its span on the main thread (the handler's spans nest under it). */
export interface TracedTask {
  msg: unknown;
  trace: string | undefined;
}
