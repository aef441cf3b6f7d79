import type { Codec } from '../codec/envelope.js';
import { Inbox, type FrameHandler } from '../transport/inbox.js';
import type { Wiring } from '../transport/wiring.js';

/** Longest a proxy's pump sleeps between checks when nothing rings, ms. */
const PARK_MS = 1000;

/**
 * An inbox on this node's main thread for each actor (and main thread)
 * hosted on another node: registered in the switchboard under the remote
 * id, so a local sender (an actor's `ctx.send`, a reply to a remote asker,
 * the main thread's own `tell`) gets a ring to it on its first message
 * exactly as to a local actor. A pump per proxy reads it and hands every
 * frame, undecoded, to `forward` (mail.ts), which puts it on NATS. Its
 * rings are `plain`: senders write self-contained frames (no ring's records),
 * so a frame can go on as it is. Local traffic never comes here: only ids no
 * local actor has get a proxy.
 */
export class Proxies {
  readonly #wiring: Wiring;
  readonly #codec: Codec;
  readonly #senderSlots: number;
  readonly #forward: (to: string, bytes: Uint8Array, offset: number, length: number) => void;
  readonly #pumps = new Map<string, { inbox: Inbox; done: Promise<void> }>();
  /** Pumps of removed proxies, until they have ended. */
  readonly #ending = new Set<Promise<void>>();
  #open = true;

  constructor(
    wiring: Wiring,
    codec: Codec,
    senderSlots: number,
    forward: (to: string, bytes: Uint8Array, offset: number, length: number) => void,
  ) {
    this.#wiring = wiring;
    this.#codec = codec;
    this.#senderSlots = senderSlots;
    this.#forward = forward;
  }

  has(id: string): boolean {
    return this.#pumps.has(id);
  }

  get size(): number {
    return this.#pumps.size;
  }

  /** A proxy for remote id `id` (once; never for an id a local inbox has). */
  ensure(id: string): void {
    if (!this.#open || this.#pumps.has(id) || this.#wiring.switchboard.has(id)) return;
    const desc = this.#wiring.register(id, { senderSlots: this.#senderSlots, plain: true });
    const inbox = new Inbox(desc.doorbell, { id, codec: this.#codec, spinMicros: 0 });
    this.#wiring.bindLocal(id, inbox);
    const entry = { inbox, done: Promise.resolve() };
    this.#pumps.set(id, entry); // before the pump's first check of it
    entry.done = this.#pump(id, inbox);
  }

  /**
   * Drop the proxy of `id` (its node left for good): what it still holds is
   * forwarded (and fails there, as to a node that is down), its inbox and the
   * rings into it go, and the id is free for a local actor.
   */
  remove(id: string): void {
    const p = this.#pumps.get(id);
    if (!p) return;
    this.#pumps.delete(id);
    p.inbox.drainFrames(Infinity, this.#frames(id));
    p.inbox.doorbell.wake();
    const done = p.done.finally(() => this.#ending.delete(done));
    this.#ending.add(done);
    this.#wiring.unbindLocal(id);
    this.#wiring.switchboard.unregister(id);
  }

  /** The frame handler of the proxy of `id`: each frame to `forward`, with the proxy's id as its `to`. */
  #frames(id: string): FrameHandler {
    return (bytes, offset, length) => this.#forward(id, bytes, offset, length);
  }

  async #pump(id: string, inbox: Inbox): Promise<void> {
    const fwd = this.#frames(id);
    while (this.#open && this.#pumps.get(id)?.inbox === inbox) {
      inbox.drainFrames(Infinity, fwd);
      await inbox.waitForWorkAsync(PARK_MS);
    }
  }

  /** Stop every pump; resolves once each has (its wait and timer done). */
  async close(): Promise<void> {
    this.#open = false;
    for (const p of this.#pumps.values()) p.inbox.doorbell.wake();
    await Promise.all([...this.#pumps.values()].map((p) => p.done).concat([...this.#ending]));
    for (const id of this.#pumps.keys()) this.#wiring.unbindLocal(id);
  }
}
