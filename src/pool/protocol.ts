/**
 * The pool actor's worker boundary, both sides: what piscina's worker
 * (workers/pool-worker.ts) exports and what the pool cell calls it with.
 */
import type { WireError } from '../actor/wire-error.js';

/** What a task resolves with: the handler's own errors come back as values, so a rejected task means the worker failed. */
export type TaskResult = { ok: true; value: unknown } | { ok: false; error: WireError };

/** Named exports of the pool worker that piscina runs by `name`; the default export runs one message. */
export const POOL_WORKER_PROBE = 'probe';

/** What the pool worker gets as `workerData`. */
export interface PoolWorkerData {
  moduleUrl: string;
  id: string;
}
