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
      revoke: (sender, to) => {
        const bound = this.#ports.get(sender);
        if (bound) this.#post(bound.port, { type: 'ring-revoked', to });
        else this.#onLocalRevoke(sender, to);
      },
    });
  }

  #onLocalRevoke: (sender: string, to: string) => void = () => {};

  /** Senders on this thread (the main thread's own outboxes) learn here that inbox `to` is gone for good. */
  onLocalRevoke(fn: (sender: string, to: string) => void): void {
    this.#onLocalRevoke = fn;
  }

  /** Inbox `id` is read on this thread: new rings into it are attached directly. */
  bindLocal(id: string, inbox: Inbox): void {
    this.#local.set(id, inbox);
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
    const b = this.#ports.get(id);
    if (!b) return;
    b.port.off('message', b.listener);
    this.#ports.delete(id);
  }

  #post(port: ControlPort | undefined, msg: TransportToWorker): void {
    port?.postMessage(msg);
  }
}
