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
 * The node flags a worker inherits, less those that only make sense for the
 * main script: `--input-type` (a system started from `node -e` or stdin)
 * would make every worker refuse to boot.
 */
export function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type'));
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
