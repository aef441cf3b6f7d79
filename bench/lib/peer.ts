import { Worker, type TransferListItem } from 'node:worker_threads';
import type { PeerReport, SenderCommand } from './protocol.js';

type ReportOf<R, T> = Extract<R, { type: T }>;

interface Waiter<R> {
  type: string;
  resolve: (m: R) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Every worker the benchmark started and has not terminated yet. */
const live = new Set<Worker>();

/** Terminate every worker still running, so the process can exit whatever happened. */
export async function terminateAll(): Promise<void> {
  await Promise.all([...live].map((w) => w.terminate()));
  live.clear();
}

/**
 * Run a benchmark's `main`: give up (exit 2) if it runs past `limitMs`, set a
 * failing exit code on an error, and terminate every worker it left running.
 */
export function runBench(name: string, main: () => Promise<void>, limitMs?: number): void {
  if (limitMs !== undefined) {
    const limit = setTimeout(() => {
      console.error(`${name} benchmark: still running after ${limitMs / 1000} s; giving up`);
      process.exit(2);
    }, limitMs);
    limit.unref();
  }
  main()
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => terminateAll());
}

export function track(w: Worker): Worker {
  live.add(w);
  w.once('exit', () => live.delete(w));
  return w;
}

/**
 * A worker running one of the peer scripts, seen from the main thread: its
 * reports are queued by type so a phase can wait for "the next 'sent'"
 * regardless of arrival order, and a crash fails the wait instead of hanging.
 * `R` and `C` are the script's reports and commands (the transport peers' by default).
 */
export class Peer<R extends { type: string } = PeerReport, C = SenderCommand> {
  readonly name: string;
  readonly worker: Worker;
  readonly #queue: R[] = [];
  readonly #waiters: Array<Waiter<R>> = [];
  #failure: Error | null = null;
  #stopping = false;

  constructor(name: string, script: URL, workerData: unknown, transferList: TransferListItem[] = []) {
    this.name = name;
    this.worker = track(new Worker(script, { workerData, transferList }));
    this.worker.on('message', (m: R) => {
      const i = this.#waiters.findIndex((w) => w.type === m.type);
      if (i < 0) {
        this.#queue.push(m);
        return;
      }
      const [w] = this.#waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(m);
    });
    this.worker.on('error', (e) => this.#fail(new Error(`${name} failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => {
      if (!this.#stopping) this.#fail(new Error(`${name} exited unexpectedly with code ${code}`));
    });
  }

  send(cmd: C): void {
    this.worker.postMessage(cmd);
  }

  next<T extends R['type']>(type: T, timeoutMs = 60_000): Promise<ReportOf<R, T>> {
    const i = this.#queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0] as ReportOf<R, T>);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.#waiters.findIndex((w) => w.timer === timer);
        if (k >= 0) this.#waiters.splice(k, 1);
        reject(new Error(`${this.name}: no '${type}' report within ${timeoutMs} ms`));
      }, timeoutMs);
      // The workers keep the process alive while they run; a pending wait alone must not.
      timer.unref();
      this.#waiters.push({ type, resolve: resolve as (m: R) => void, reject, timer });
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.worker.terminate();
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }
}
