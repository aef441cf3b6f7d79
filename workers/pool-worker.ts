// A piscina worker serving one pool actor: loads the actor's task module once
// and runs its default export per message. The handler's own errors come back
// as values, so that on the main thread a rejected task always means the
// worker itself failed (exited, ran out of heap, threw outside the handler).
import { workerData } from 'node:worker_threads';
import { toWire } from '../src/actor/wire-error.js';
import { ModuleLoadError } from '../src/errors.js';
import { taskError, taskValue, type PoolWorkerData, type TaskResult, type TracedTask } from '../src/pool/protocol.js';

type Handler = (msg: unknown) => unknown;

const { moduleUrl, id, tracing } = workerData as PoolWorkerData;
/** Tracing on: runs the handler with the task's trace context active (the message's span on the main thread as parent). */
let inContext: ((h: Handler, task: TracedTask) => unknown) | null = null;
let loading: Promise<Handler> | null = null;
/** Set once the module has loaded: from then on a task runs without an await of its own. */
let handler: Handler | null = null;

/** With tracing on, the setup module (it registers the SDK in this thread) before the actor's module; the OpenTelemetry packages load only then. */
async function setUp(): Promise<void> {
  if (!tracing) return;
  const [t, { context }] = await Promise.all([import('../src/trace/tracing.js'), import('@opentelemetry/api')]);
  await t.setUpTracing(tracing, `pool '${id}'`);
  inContext = (h, task) => context.with(t.contextOf(task.trace), h, undefined, task.msg);
}

function load(): Promise<Handler> {
  loading ??= setUp().then(() => import(moduleUrl)).then((mod: { default?: unknown }) => {
    if (typeof mod.default !== 'function') {
      throw new ModuleLoadError(`pool '${id}': ${moduleUrl} must export a function as its default export (it handles one message)`);
    }
    return (handler = mod.default as Handler);
  });
  return loading;
}

/** A synchronous handler's result goes back at once (piscina awaits it anyway); a promise is awaited. */
export default function run(msg: unknown): TaskResult | Promise<TaskResult> {
  const h = handler;
  return h === null ? load().then((loaded) => call(loaded, msg)) : call(h, msg);
}

function call(h: Handler, msg: unknown): TaskResult | Promise<TaskResult> {
  let value: unknown;
  try {
    value = inContext === null ? h(msg) : inContext(h, msg as TracedTask);
  } catch (err) {
    return failed(err);
  }
  return isThenable(value) ? Promise.resolve(value).then(taskValue, failed) : taskValue(value);
}

function failed(err: unknown): TaskResult {
  return taskError(toWire(err));
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Run at each pool start (piscina's `name: POOL_WORKER_PROBE`): the module loads and has a handler, or the start fails. */
export async function probe(): Promise<true> {
  await load();
  return true;
}
