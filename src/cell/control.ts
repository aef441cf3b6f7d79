import type { Worker } from 'node:worker_threads';
import { AskTimeoutError } from '../errors.js';
import type { HostToMain, MainToHost } from '../host/protocol.js';

type Answer = Extract<HostToMain, { requestId: number }>;
type Request = Extract<MainToHost, { requestId: number }>;
/** A request before the channel numbers it (Omit over each member of the union, not over the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'requestId'> : never;

/**
 * Request/response over one incarnation's worker port, for the low-rate
 * control plane (health, configure). Every request settles: its answer, or a
 * timeout naming the actor and the request.
 */
export class ControlChannel {
  readonly #actor: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, (m: Answer) => void>();
  #next = 1;

  constructor(actor: string, worker: Worker) {
    this.#actor = actor;
    this.#worker = worker;
  }

  request<T>(msg: Unnumbered<Request>, timeoutMs: number, map: (m: Answer) => T): Promise<T> {
    const requestId = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new AskTimeoutError(this.#actor, timeoutMs, msg.type));
      }, timeoutMs);
      this.#pending.set(requestId, (m) => {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        try {
          resolve(map(m));
        } catch (err) {
          reject(err as Error);
        }
      });
      this.#worker.postMessage({ ...msg, requestId } as Request);
    });
  }

  /** An answer from the worker: settles its request (a late one, after the timeout, is ignored). */
  answer(m: Answer): void {
    this.#pending.get(m.requestId)?.(m);
  }
}
