import { Worker } from 'node:worker_threads';

const fixtures = new URL('../fixtures/', import.meta.url);

/** Workers started by a test; `terminateAll` in afterEach stops every one. */
export class WorkerSet {
  readonly #workers = new Set<Worker>();

  start(fixture: string, workerData: unknown): Worker {
    const w = new Worker(new URL(fixture, fixtures), { workerData });
    this.#workers.add(w);
    w.once('exit', () => this.#workers.delete(w));
    return w;
  }

  async terminateAll(): Promise<void> {
    await Promise.all([...this.#workers].map((w) => w.terminate()));
    this.#workers.clear();
  }
}

/** The next message from `w` whose `type` is `type`; rejects if the worker errors or exits first. */
export function nextMessage<T>(w: Worker, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: { type?: string }): void => {
      if (m?.type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`worker exited with code ${code} before sending '${type}'`));
    };
    const cleanup = (): void => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}

export function exitCode(w: Worker): Promise<number> {
  return new Promise((resolve) => w.once('exit', resolve));
}
