import type { Codec, Envelope } from '../codec/envelope.js';
import { ActorStoppedError, RingTimeoutError } from '../errors.js';
import type { WriteResult } from '../ring/ring.js';
import type { Outbox } from '../transport/outbox.js';
import type { Lane } from '../transport/protocol.js';

/** How long a send waits for room in a full ring before the message is dead-lettered, ms. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export interface OutboxSource {
  outboxIfReady(to: string, lane: Lane): Outbox | undefined;
  outbox(to: string, lane: Lane): Promise<Outbox>;
}

/** A message that could not be delivered, and why. */
export type UndeliverableHandler = (env: Envelope, error: Error) => void;

interface Queued {
  env: Envelope;
  bytes: Uint8Array;
}

/**
 * Outgoing messages of one thread. The fast path writes straight into the
 * destination's ring. When that ring is not wired yet or is full, messages
 * wait here in order (as encoded copies, so later changes to a payload do not
 * leak into them) and are flushed without blocking the thread; a message that
 * still finds no room after `sendTimeoutMs`, or whose destination does not
 * exist, goes to `onUndeliverable`. Nothing is dropped silently.
 */
export class Sender {
  readonly #source: OutboxSource;
  readonly #codec: Codec;
  readonly #onUndeliverable: UndeliverableHandler;
  readonly #timeoutMs: number;
  readonly #queues = new Map<string, Queued[]>();
  readonly #flushing = new Set<Promise<void>>();

  constructor(source: OutboxSource, codec: Codec, onUndeliverable: UndeliverableHandler, sendTimeoutMs = DEFAULT_SEND_TIMEOUT_MS) {
    this.#source = source;
    this.#codec = codec;
    this.#onUndeliverable = onUndeliverable;
    this.#timeoutMs = sendTimeoutMs;
  }

  /** Send `env` on `lane`. Throws only for a message that can never be sent (too large, not encodable). */
  send(env: Envelope, lane: Lane = 'mail'): void {
    // NUL cannot occur in an actor id, so a mail key never meets a reply key.
    // No string is built and no map consulted on the fast path (nothing queued).
    const key = this.#queues.size === 0 ? '' : `${lane}\u0000${env.to}`;
    let q = key === '' ? undefined : this.#queues.get(key);
    if (!q) {
      const out = this.#source.outboxIfReady(env.to, lane);
      if (out) {
        const r = this.#codec.write(out.writer, env);
        if (r === 'written') return;
        if (r === 'closed') {
          this.#onUndeliverable(env, new ActorStoppedError(env.to, 'is stopped for good: its inbox is closed'));
          return;
        }
      }
    }
    const item = { env, bytes: this.#codec.encodeToBytes(env) };
    if (q) {
      q.push(item);
      return;
    }
    q = [item];
    const queueKey = key || `${lane}\u0000${env.to}`;
    this.#queues.set(queueKey, q);
    const f = this.#flush(queueKey, env.to, lane, q).finally(() => this.#flushing.delete(f));
    this.#flushing.add(f);
  }

  /** Resolves once every queued message is written or dead-lettered (a stopping thread awaits this). */
  async idle(): Promise<void> {
    while (this.#flushing.size > 0) await Promise.all(this.#flushing);
  }

  /** Messages waiting here for a ring or for room. */
  get queued(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  async #flush(key: string, to: string, lane: Lane, q: Queued[]): Promise<void> {
    try {
      let out: Outbox;
      try {
        out = await this.#source.outbox(to, lane);
      } catch (err) {
        for (const item of q.splice(0)) this.#onUndeliverable(item.env, err as Error);
        return;
      }
      while (q.length > 0) {
        const head = q[0]!;
        let r: WriteResult;
        try {
          r = out.writer.tryWrite(head.bytes);
        } catch (err) {
          // Larger than this ring can ever hold: that message only is undeliverable.
          q.shift();
          this.#onUndeliverable(head.env, err as Error);
          continue;
        }
        if (r === 'written') {
          q.shift();
          continue;
        }
        if (r === 'closed') {
          for (const item of q.splice(0)) this.#onUndeliverable(item.env, new ActorStoppedError(to, 'is stopped for good: its inbox is closed'));
          return;
        }
        const s = await out.writer.waitForSpaceAsync(head.bytes.byteLength, this.#timeoutMs);
        if (s === 'timed-out') {
          q.shift();
          this.#onUndeliverable(head.env, new RingTimeoutError(`send to '${to}': no room in its ring within ${this.#timeoutMs} ms`));
        }
      }
    } finally {
      this.#queues.delete(key);
      for (const item of q.splice(0)) this.#onUndeliverable(item.env, new ActorStoppedError(to, 'could not be reached'));
    }
  }
}
