import { prepareWorkerIsolates } from './isolates.js';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { fromWire } from '../actor/wire-error.js';
import { ModuleLoadError } from '../errors.js';
import type { HostToMain, StandbyBoot } from '../host/protocol.js';
import type { StandbyState } from './contract.js';

/**
 * A spare worker that has booted the host and imported the actor's module,
 * waiting to be handed the next incarnation: a restart then costs an
 * `activate` message instead of a thread start and a module load.
 */
export class Standby {
  readonly worker: Worker;
  #ready = false;
  #error: Error | null = null;
  #gone = false;
  readonly #settled: Promise<void>;
  readonly #detach: () => void;

  /** `onGone`: the spare's thread exited before it was taken. */
  constructor(hostUrl: URL, id: string, moduleUrl: string, limits: { resourceLimits?: ResourceLimits }, onGone: () => void) {
    const boot: StandbyBoot = { standby: true, id, moduleUrl };
    const w = new Worker(hostUrl, { workerData: boot, execArgv: workerExecArgv(), ...limits });
    this.worker = w;
    let settle: () => void = () => {};
    this.#settled = new Promise<void>((r) => (settle = r));
    const onMessage = (m: HostToMain): void => {
      if (m.type === 'standby-ready') {
        if (m.error) this.#error = fromWire(m.error);
        else this.#ready = true;
      }
      settle();
    };
    // A spare that fails is dropped; the next start boots a fresh worker.
    const onError = (): void => settle();
    const onExit = (): void => {
      this.#gone = true;
      settle();
      onGone();
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    // Only our own listeners: Worker keeps internal ones that start and
    // stop its message port as 'message' listeners come and go.
    this.#detach = () => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
  }

  get state(): StandbyState {
    return this.#gone || this.#error ? 'none' : this.#ready ? 'ready' : 'booting';
  }

  /** The module could not be loaded (a ModuleLoadError), once settled. */
  get error(): Error | null {
    return this.#error;
  }

  /** Resolves once the spare is ready, failed or gone. */
  settled(): Promise<void> {
    return this.#settled;
  }

  /** Hand the worker over to an incarnation: our listeners go, the caller's take over. */
  take(): Worker {
    this.#detach();
    return this.worker;
  }

  /** Stop the spare; resolves once its thread is gone. */
  discard(): Promise<void> {
    this.#detach();
    return this.worker.terminate().then(() => undefined);
  }
}

/**
 * The `execArgv` for an actor's worker: `undefined` (the worker inherits the
 * main thread's node options as they are) unless they hold `--input-type`,
 * which only makes sense for the main script (a system started from
 * `node -e` or stdin) and would make every worker refuse to boot. Only then
 * is a list passed, and a list passed to `new Worker` may not hold V8 or
 * process-wide flags (`--max-old-space-size`, `--perf-basic-prof`, …: those
 * apply to the workers anyway), so the flags Node refuses there are dropped
 * too. Worked out once per process, the first time also preparing V8 for
 * the isolates of actors (src/cell/isolates.ts).
 */
export function workerExecArgv(): string[] | undefined {
  if (execArgvCache === null) {
    prepareWorkerIsolates();
    execArgvCache = { argv: forWorkers(process.execArgv) };
  }
  return execArgvCache.argv;
}

let execArgvCache: { argv: string[] | undefined } | null = null;

function forWorkers(argv: readonly string[]): string[] | undefined {
  if (!argv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++; // its value is the next word
    else if (!argv[i]!.startsWith('--input-type=')) kept.push(argv[i]!);
  }
  const refused = refusedByWorkers(kept);
  return refused.size === 0 ? kept : kept.filter((a) => !refused.has(a));
}

/**
 * The flags of `argv` that `new Worker` refuses in an explicit `execArgv`.
 * Node checks them before it starts the thread and names them in the error
 * (`ERR_WORKER_INVALID_EXEC_ARGV`); an argv it accepts starts a worker with
 * nothing to run, stopped at once.
 */
function refusedByWorkers(argv: string[]): Set<string> {
  try {
    const probe = new Worker('', { eval: true, execArgv: argv, stdout: true, stderr: true });
    probe.unref();
    void probe.terminate();
    return new Set();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    const listed = String(e.message).slice(String(e.message).indexOf(': ') + 2).split(', ');
    const named = new Set(listed.filter((f) => argv.includes(f)));
    // A message not shaped as expected: keep none of the flags rather than fail every start.
    return named.size > 0 ? named : new Set(argv);
  }
}

/**
 * Load `moduleUrl` once in a throw-away worker and settle when it is known to
 * hold an actor; reject with its ModuleLoadError otherwise. Nothing is started.
 */
export async function checkModule(hostUrl: URL, id: string, moduleUrl: string, limits: { resourceLimits?: ResourceLimits } = {}, timeoutMs?: number): Promise<void> {
  const sb = new Standby(hostUrl, id, moduleUrl, limits, () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const late =
      timeoutMs === undefined
        ? null
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new ModuleLoadError(`actor '${id}': ${moduleUrl} did not finish loading within ${timeoutMs} ms`)), timeoutMs);
          });
    await (late ? Promise.race([sb.settled(), late]) : sb.settled());
    if (sb.error) throw sb.error;
    if (sb.state !== 'ready') throw new ModuleLoadError(`actor '${id}': the worker loading ${moduleUrl} ended before it could tell`);
  } finally {
    clearTimeout(timer);
    await sb.discard();
  }
}
