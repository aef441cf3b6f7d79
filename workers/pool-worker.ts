// A piscina worker serving one pool actor: loads the actor's task module once
// and runs its default export per message. The handler's own errors come back
// as values, so that on the main thread a rejected task always means the
// worker itself failed (exited, ran out of heap, threw outside the handler).
import { workerData } from 'node:worker_threads';
import { toWire } from '../src/actor/wire-error.js';
import { ModuleLoadError } from '../src/errors.js';
import type { PoolWorkerData, TaskResult } from '../src/pool/protocol.js';

type Handler = (msg: unknown) => unknown;

const { moduleUrl, id } = workerData as PoolWorkerData;
let handler: Promise<Handler> | null = null;

function load(): Promise<Handler> {
  handler ??= import(moduleUrl).then((mod: { default?: unknown }) => {
    if (typeof mod.default !== 'function') {
      throw new ModuleLoadError(`pool '${id}': ${moduleUrl} must export a function as its default export (it handles one message)`);
    }
    return mod.default as Handler;
  });
  return handler;
}

export default async function run(msg: unknown): Promise<TaskResult> {
  const h = await load();
  try {
    return { ok: true, value: await h(msg) };
  } catch (err) {
    return { ok: false, error: toWire(err) };
  }
}

/** Run at each pool start (piscina's `name: POOL_WORKER_PROBE`): the module loads and has a handler, or the start fails. */
export async function probe(): Promise<true> {
  await load();
  return true;
}
