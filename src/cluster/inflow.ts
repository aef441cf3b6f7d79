import type { Envelope } from '../codec/envelope.js';

/**
 * Mail from other nodes on its way into local inboxes, handed on in batches:
 * the NATS client delivers the messages of one read from its socket one
 * callback at a time, and writing each into its ring at once would wake a
 * parked receiver for each (a futex wake per message, and the receiver
 * parking again between two). Queued here and written together once the
 * callbacks of the read are done (a microtask later), a burst costs one
 * wake-up. The order is kept: one queue, flushed in order.
 */
export class Inflow {
  readonly #send: (env: Envelope, frame: Uint8Array | null) => void;
  readonly #refuse: (env: Envelope, node: string, err: Error) => void;
  #queue: Array<[Envelope, string, Uint8Array | null]> = [];
  readonly #flush = (): void => {
    const q = this.#queue;
    this.#queue = [];
    for (const [env, node, frame] of q) {
      try {
        this.#send(env, frame);
      } catch (err) {
        this.#refuse(env, node, err as Error);
      }
    }
  };

  /** `send` gets the envelope and, for a frame passed on as it came, its bytes (else null). */
  constructor(send: (env: Envelope, frame: Uint8Array | null) => void, refuse: (env: Envelope, node: string, err: Error) => void) {
    this.#send = send;
    this.#refuse = refuse;
  }

  /** `env` from node `node` (`frame`: its bytes, to pass on as they are), for a local inbox: sent with the rest of this turn's. */
  push(env: Envelope, node: string, frame: Uint8Array | null = null): void {
    if (this.#queue.push([env, node, frame]) === 1) queueMicrotask(this.#flush);
  }
}
