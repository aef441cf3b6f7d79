import { RingmasterError } from '../errors.js';
import type { ControlPort } from './endpoint.js';
import type { Inbox } from './inbox.js';
import { isTransportToMain, type InboxDescriptor, type TransportToWorker } from './protocol.js';
import { Switchboard, type RegisterOptions } from './switchboard.js';

/**
 * Main-thread side of the transport's control plane: answers the ring
 * requests of the threads it serves and tells receivers about new rings.
 */
export class Wiring {
  readonly switchboard: Switchboard;
  readonly #ports = new Map<string, { port: ControlPort; listener: (m: unknown) => void }>();
  readonly #local = new Map<string, Inbox>();

  constructor() {
    this.switchboard = new Switchboard({
      attach: (to, slot, ring, lane) => {
        const local = this.#local.get(to);
        if (local) return local.attach(slot, ring, lane);
        // A receiver with no thread bound right now (restarting) gets the ring
        // with the rest of its inbox when its next thread is bound.
        this.#post(this.#ports.get(to)?.port, { type: 'ring-attach', slot, ring, lane });
      },
      detach: (to, slot) => {
        const local = this.#local.get(to);
        if (local) return local.detach(slot);
        this.#post(this.#ports.get(to)?.port, { type: 'ring-detach', slot });
      },
      revoke: (sender, to, rings) => {
        const bound = this.#ports.get(sender);
        // A ring into an inbox read on this thread (a pool's, a proxy's) is never recycled: that reader is not a thread that ended.
        const recyclable = !this.#everLocal.has(to);
        if (bound) {
          if (recyclable) {
            const byTo = this.#revoked.get(sender) ?? this.#revoked.set(sender, new Map()).get(sender)!;
            byTo.set(to, [...(byTo.get(to) ?? []), ...rings]);
          }
          this.#post(bound.port, { type: 'ring-revoked', to });
        } else if (this.#onLocalRevoke(sender, to) && recyclable) this.switchboard.recycle(rings);
      },
    });
  }

  #onLocalRevoke: (sender: string, to: string) => boolean = () => false;
  /** Sender → inbox gone for good → the rings it was told to drop and has not yet said it retired. */
  readonly #revoked = new Map<string, Map<string, SharedArrayBuffer[]>>();
  /** Inboxes ever read on this thread. */
  readonly #everLocal = new Set<string>();

  /**
   * Senders on this thread (the main thread's own outboxes) learn here that
   * inbox `to` is gone for good; `fn` returns true when `sender` is one of
   * them and has retired its rings to it (they may then be recycled).
   */
  onLocalRevoke(fn: (sender: string, to: string) => boolean): void {
    this.#onLocalRevoke = fn;
  }

  /** Inbox `id` is read on this thread: new rings into it are attached directly. */
  bindLocal(id: string, inbox: Inbox): void {
    this.#local.set(id, inbox);
    this.#everLocal.add(id);
    for (const { slot, ring, lane } of this.switchboard.describe(id).rings) inbox.attach(slot, ring, lane);
  }

  unbindLocal(id: string): void {
    this.#local.delete(id);
  }

  register(id: string, options?: RegisterOptions): InboxDescriptor {
    return this.switchboard.register(id, options);
  }

  /** `port` now serves inbox `id`: its ring requests are answered, new rings into it are announced on it. */
  bind(id: string, port: ControlPort): void {
    this.unbind(id);
    const listener = (m: unknown): void => {
      if (!isTransportToMain(m)) return;
      if (m.type === 'ring-released') {
        // The thread serving `id` retired its rings into `m.to`: no thread holds them now.
        const byTo = this.#revoked.get(id);
        const rings = byTo?.get(m.to);
        if (!rings) return;
        byTo!.delete(m.to);
        this.switchboard.recycle(rings);
        return;
      }
      let reply: TransportToWorker;
      try {
        reply = { type: 'ring-grant', requestId: m.requestId, grant: this.switchboard.connect(m.from, m.to, m.lane) };
      } catch (err) {
        const e = err as Error;
        reply = { type: 'ring-refused', requestId: m.requestId, to: m.to, code: e instanceof RingmasterError ? e.code : 'ERR_INVALID_OPTION', message: e.message };
      }
      this.#post(port, reply);
    };
    port.on('message', listener);
    this.#ports.set(id, { port, listener });
  }

  unbind(id: string): void {
    // A thread that goes without saying it retired its rings keeps them from the pool: the collector takes them.
    this.#revoked.delete(id);
    const b = this.#ports.get(id);
    if (!b) return;
    b.port.off('message', b.listener);
    this.#ports.delete(id);
  }

  #post(port: ControlPort | undefined, msg: TransportToWorker): void {
    port?.postMessage(msg);
  }
}
