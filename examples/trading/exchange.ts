/**
 * A simulated exchange for the execution actor: placing an order takes
 * `latencyMs`, and fails now and then (`failureRate`, the venue refusing).
 * The fault switch adds outages: a call may take the exchange down for
 * `exchangeOutageMs`, and while it is down no call is answered: each one
 * waits until its caller gives up (the execution actor's timeout aborts it).
 */
import type { FaultSpec, Order } from './shared.js';

export interface ExchangeConfig {
  /** Share of calls the venue refuses on a normal day. */
  failureRate: number;
  /** Time one call takes when the venue answers, ms (0: answered at once). */
  latencyMs: number;
  /** How long execution waits for an answer before the call counts as failed, ms. */
  timeoutMs: number;
}

/** An outage lasts this long unless the fault switch says otherwise, ms. */
export const DEFAULT_OUTAGE_MS = 2000;

export class SimulatedExchange {
  readonly #rnd: () => number;
  #downUntil = 0;

  constructor(rnd: () => number) {
    this.#rnd = rnd;
  }

  /** Epoch ms until which the exchange is down (0 or past: it is up). */
  get downUntil(): number {
    return this.#downUntil;
  }

  /** Resolves once the venue accepted the order; rejects when it refused it or the signal aborted. */
  place(order: Order, cfg: ExchangeConfig, fault: FaultSpec | undefined, signal: AbortSignal): Promise<void> {
    const now = Date.now();
    if (now >= this.#downUntil && fault?.exchangeOutageRate && this.#rnd() < fault.exchangeOutageRate) {
      this.#downUntil = now + (fault.exchangeOutageMs ?? DEFAULT_OUTAGE_MS);
    }
    const down = now < this.#downUntil;
    const refused = !down && this.#rnd() < cfg.failureRate;
    return new Promise<void>((resolve, reject) => {
      const answer = (): void => {
        signal.removeEventListener('abort', abort);
        if (refused) reject(new Error(`venue refused order ${order.id} (simulated error)`));
        else resolve();
      };
      // Down: no answer ever comes, so only the abort settles the call.
      const timer = down ? undefined : cfg.latencyMs > 0 ? setTimeout(answer, cfg.latencyMs) : undefined;
      const abort = (): void => {
        clearTimeout(timer);
        reject(new Error(`exchange did not answer order ${order.id}${down ? ' (outage)' : ''}`));
      };
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      if (!down && cfg.latencyMs <= 0) answer();
    });
  }
}
