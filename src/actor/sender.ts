import { copyFrameBytes } from '../codec/bytes.js';
import type { Codec, Envelope } from '../codec/envelope.js';
import { DEFAULT_SEND_TIMEOUT_MS } from '../defaults.js';
import { ActorStoppedError, MailboxFullError, RingTimeoutError } from '../errors.js';
import type { WriteResult } from '../ring/ring.js';
import { writeEnvelope, writeFrame } from '../transport/frames.js';
import type { Outbox } from '../transport/outbox.js';
import { countedLane, laneKey, laneOf, type Lane } from '../transport/protocol.js';
import { replaceFailedReply } from './reply.js';
import { traceContext } from '../codec/trace-hook.js';

/** Tracing is on: a message (not an answer) carries the sender's active trace context, if any. */
function stampTrace(env: Envelope, source: () => string | undefined): void {
  if (env.trace === undefined && env.kind !== 'reply' && env.kind !== 'error') env.trace = source();
}

export interface OutboxSource {
  outboxIfReady(to: string, lane: Lane): Outbox | undefined;
  outbox(to: string, lane: Lane): Promise<Outbox>;
}

/** A message that could not be delivered, and why. */
export type UndeliverableHandler = (env: Envelope, error: Error) => void;

interface Queued {
  env: Envelope;
  /** Self-contained (no ring's records): it may wait for a ring not granted yet. Shared by a sendToEach's queued copies. */
  bytes: Uint8Array;
  /** Holds a place in the receiver's mailbox (counted lanes only). */
  admitted: boolean;
  /** `backpressure`: when waiting for a place ends, performance.now() ms. */
  deadline: number;
}

/**
 * Outgoing messages of one thread. The fast path writes straight into the
 * destination's ring. When that ring is not wired yet or is full, or the
 * receiver's mailbox is at its bound under `backpressure`, messages wait here
 * in order (as encoded copies, so later changes to a payload do not leak into
 * them) and are flushed without blocking the thread; a message that still
 * finds no room in time, or whose destination does not exist, goes to
 * `onUndeliverable`. At a full mailbox the receiver's overflow policy applies:
 * `drop-newest` and `fail` hand the message to `onUndeliverable` with a
 * MailboxFullError (`fail` also throws it from `send` when it is known at
 * once). Nothing is dropped silently.
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
    // A reply that cannot go is answered with the reason instead, so its ask settles; then the handler (the dead letter) runs.
    this.#onUndeliverable = (env, err) => {
      replaceFailedReply(this, env, err);
      onUndeliverable(env, err);
    };
    this.#timeoutMs = sendTimeoutMs;
  }

  /**
   * Send `env` on `lane` (by default the lane of its priority). Throws only
   * for a message that can never be sent (too large, not encodable) and for
   * a full mailbox whose policy is `fail`.
   */
  send(env: Envelope, lane: Lane = laneOf(env.priority)): void {
    if (traceContext !== null) stampTrace(env, traceContext);
    // No string is built and no map consulted on the fast path (nothing queued).
    const key = this.#queues.size === 0 ? '' : laneKey(lane, env.to);
    const q = key === '' ? undefined : this.#queues.get(key);
    if (!q) {
      const out = this.#source.outboxIfReady(env.to, lane);
      if (out && this.#direct(out, lane, env, null, 0, env.to)) return;
    }
    this.#enqueue(q, key, lane, env, this.#codec.encodeToBytes(env));
  }

  /**
   * Send `env` to each of `targets` (as if its `to` were each in turn) on
   * `lane`: encoded once, self-contained, and the same bytes copied into
   * every receiver's ring. A receiver whose mailbox refuses it (any policy)
   * gets a dead letter and the others still get the message; anything else
   * that makes it unsendable throws, as from `send`.
   */
  sendToEach(env: Envelope, targets: Iterable<string>, lane: Lane = laneOf(env.priority)): void {
    if (traceContext !== null) stampTrace(env, traceContext);
    const codec = this.#codec;
    const size = codec.encode(env);
    // An owned copy (nothing else may pack meanwhile), rounded up to whole words for the copies into each ring.
    const frame = new Uint8Array((size + 3) & ~3);
    copyFrameBytes(codec.encoded, codec.encodedStart, frame, 0, size);
    let exact: Uint8Array | null = null;
    for (const to of targets) {
      const key = this.#queues.size === 0 ? '' : laneKey(lane, to);
      const q = key === '' ? undefined : this.#queues.get(key);
      if (!q) {
        const out = this.#source.outboxIfReady(to, lane);
        try {
          if (out && this.#direct(out, lane, env, frame, size, to)) continue;
        } catch (err) {
          if (err instanceof MailboxFullError) continue; // dead-lettered already; the others still get it
          throw err;
        }
      }
      this.#enqueue(q, key, lane, { ...env, to }, (exact ??= frame.subarray(0, size)));
    }
  }

  /**
   * Send a frame encoded elsewhere (another node's), `frame` as it is, on
   * `lane`: `env` is its header, the `to` it goes to and, for a message
   * that cannot be delivered, its payload. The frame must be self-contained
   * (no ring's records); a queued copy is taken.
   */
  sendFrame(env: Envelope, frame: Uint8Array, lane: Lane = laneOf(env.priority)): void {
    const key = this.#queues.size === 0 ? '' : laneKey(lane, env.to);
    const q = key === '' ? undefined : this.#queues.get(key);
    if (!q) {
      const out = this.#source.outboxIfReady(env.to, lane);
      if (out && this.#direct(out, lane, env, frame, frame.length, env.to)) return;
    }
    this.#enqueue(q, key, lane, env, Uint8Array.prototype.slice.call(frame));
  }

  /** Resolves once every queued message is written or dead-lettered (a stopping thread awaits this). */
  async idle(): Promise<void> {
    while (this.#flushing.size > 0) await Promise.all(this.#flushing);
  }

  /** Messages waiting here for a ring or for room. */
  get queued(): number {
    if (this.#queues.size === 0) return 0; // the common case, asked after every message: no walk
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /**
   * The fast path: straight into `out`'s ring, `frame[0..size)` if given (a
   * self-contained frame, written as is) else `env` encoded with the ring's
   * records. True when done with (written, or refused and reported); false
   * when it must wait in the queue (ring full, or a `backpressure` mailbox at
   * its bound).
   */
  #direct(out: Outbox, lane: Lane, env: Envelope, frame: Uint8Array | null, size: number, to: string): boolean {
    const counted = countedLane(lane);
    const admission = counted ? out.gate.admit() : 'admitted';
    if (admission === 'admitted') {
      let r: WriteResult;
      try {
        r = frame ? writeFrame(out.writer, frame, size, to) : writeEnvelope(out.writer, this.#codec, env, out.records);
      } catch (err) {
        if (counted) out.gate.cancel();
        throw err;
      }
      if (r === 'written') return true;
      if (counted) out.gate.cancel();
      if (r === 'closed') {
        this.#onUndeliverable(env.to === to ? env : { ...env, to }, new ActorStoppedError(to, 'is stopped for good: its inbox is closed'));
        return true;
      }
      return false;
    }
    if (admission === 'backpressure') return false;
    const err = new MailboxFullError(to, admission, `${out.gate.capacity} messages waiting`);
    this.#onUndeliverable(env.to === to ? env : { ...env, to }, err);
    if (admission === 'fail') throw err;
    return true;
  }

  /** Queue `env` (as `bytes`, an encoded copy) behind `q`, or in a new queue flushed from now on. */
  #enqueue(q: Queued[] | undefined, key: string, lane: Lane, env: Envelope, bytes: Uint8Array): void {
    const item: Queued = { env, bytes, admitted: false, deadline: 0 };
    if (q) {
      q.push(item);
      return;
    }
    const queue = [item];
    const queueKey = key || laneKey(lane, env.to);
    this.#queues.set(queueKey, queue);
    const f = this.#flush(queueKey, env.to, lane, queue).finally(() => this.#flushing.delete(f));
    this.#flushing.add(f);
  }

  async #flush(key: string, to: string, lane: Lane, q: Queued[]): Promise<void> {
    let out: Outbox | undefined;
    try {
      try {
        out = await this.#source.outbox(to, lane);
      } catch (err) {
        for (const item of q.splice(0)) this.#onUndeliverable(item.env, err as Error);
        return;
      }
      const counted = countedLane(lane);
      while (q.length > 0) {
        const head = q[0]!;
        if (counted && !head.admitted && !(await this.#admit(out, head, q))) continue;
        let r: WriteResult;
        try {
          r = out.writer.tryWrite(head.bytes);
        } catch (err) {
          // Larger than this ring can ever hold: that message only is undeliverable.
          this.#drop(q, out, err as Error);
          continue;
        }
        if (r === 'written') {
          q.shift();
          continue;
        }
        if (r === 'closed') {
          while (q.length > 0) this.#drop(q, out, new ActorStoppedError(to, 'is stopped for good: its inbox is closed'));
          return;
        }
        const s = await out.writer.waitForSpaceAsync(head.bytes.byteLength, this.#timeoutMs);
        if (s === 'timed-out') this.#drop(q, out, new RingTimeoutError(`send to '${to}': no room in its ring within ${this.#timeoutMs} ms`));
      }
    } finally {
      this.#queues.delete(key);
      while (q.length > 0) this.#drop(q, out, new ActorStoppedError(to, 'could not be reached'));
    }
  }

  /** Take a mailbox place for the head of `q`; false when it was dropped or must be retried. */
  async #admit(out: Outbox, head: Queued, q: Queued[]): Promise<boolean> {
    const a = out.gate.admit();
    if (a === 'admitted') {
      head.admitted = true;
      return true;
    }
    if (a !== 'backpressure') {
      this.#drop(q, out, new MailboxFullError(out.to, a, `${out.gate.capacity} messages waiting`));
      return false;
    }
    const now = performance.now();
    if (head.deadline === 0) head.deadline = now + out.gate.waitMs;
    const left = head.deadline - now;
    if (left <= 0) {
      this.#drop(q, out, new MailboxFullError(out.to, 'backpressure', `no room within ${out.gate.waitMs} ms`));
      return false;
    }
    await out.gate.waitForRoom(left);
    return false;
  }

  /** The head of `q` will not be written: give back its place and report it. */
  #drop(q: Queued[], out: Outbox | undefined, err: Error): void {
    const item = q.shift()!;
    if (item.admitted) out?.gate.cancel();
    this.#onUndeliverable(item.env, err);
  }
}
