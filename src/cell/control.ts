import type { Worker } from 'node:worker_threads';
import { AskTimeoutError } from '../errors.js';
import type { HostToMain, MainToHost } from '../host/protocol.js';

type Answer = Extract<HostToMain, { requestId: number }>;
type Request = Extract<MainToHost, { requestId: number }>;
/** A request before the channel numbers it (Omit over each member of the union, not over the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'requestId'> : never;

/**
 * Request/response over one incarnation's worker port, for the low-rate
 * control plane (health, configure). Every request settles: its answer, what
 * its caller said it means when the incarnation ends before answering (a
 * hung actor the watchdog killed, one that crashed or was stopped), or a
 * timeout naming the actor and the request.
 */
export class ControlChannel {
  readonly #actor: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { answer: (m: Answer) => void; gone: () => void }>();
  #next = 1;
  #closed = false;

  constructor(actor: string, worker: Worker) {
    this.#actor = actor;
    this.#worker = worker;
  }

  /**
   * Send `msg`; `map` turns the answer into the result (or throws), `gone`
   * gives the result when the incarnation ends first.
   */
  request<T>(msg: Unnumbered<Request>, timeoutMs: number, map: (m: Answer) => T, gone: () => T): Promise<T> {
    if (this.#closed) return Promise.resolve().then(gone);
    const requestId = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const settle = (get: () => T): void => {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        try {
          resolve(get());
        } catch (err) {
          reject(err as Error);
        }
      };
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new AskTimeoutError(this.#actor, timeoutMs, msg.type));
      }, timeoutMs);
      this.#pending.set(requestId, { answer: (m) => settle(() => map(m)), gone: () => settle(gone) });
      this.#worker.postMessage({ ...msg, requestId } as Request);
    });
  }

  /** An answer from the worker: settles its request (a late one, after the timeout, is ignored). */
  answer(m: Answer): void {
    this.#pending.get(m.requestId)?.answer(m);
  }

  /** The incarnation's worker has exited: every request still waiting settles with its `gone` result, and later ones at once. */
  close(): void {
    this.#closed = true;
    for (const p of [...this.#pending.values()]) p.gone();
  }
}
