import { Codec } from '../codec/envelope.js';
import { RingmasterError, type ErrorCode } from '../errors.js';
import { Inbox, type InboxOptions } from './inbox.js';
import { Outbox } from './outbox.js';
import { isTransportToWorker, laneKey, type InboxDescriptor, type Lane, type TransportToMain, type TransportToWorker } from './protocol.js';

/** The part of a MessagePort / parentPort the transport uses. */
export interface ControlPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * A thread's place on the data plane: its inbox, and an outbox per peer it
 * has written to. Reaching a new peer costs one control round trip to the
 * main thread (which creates the ring); from then on every message goes
 * straight into the peer's memory.
 */
export class Endpoint {
  readonly id: string;
  readonly inbox: Inbox;
  readonly #port: ControlPort;
  readonly #codec: Codec;
  /** Wired outboxes per lane and receiver: looked up on every send, so no key string is built. */
  readonly #outboxes: Record<Lane, Map<string, Outbox>> = { system: new Map(), high: new Map(), normal: new Map(), reply: new Map() };
  readonly #connecting = new Map<string, Promise<Outbox>>();
  readonly #requests = new Map<number, { resolve: (o: Outbox) => void; reject: (e: Error) => void }>();
  #nextRequest = 1;
  readonly #listener = (m: unknown): void => {
    if (isTransportToWorker(m)) this.#handle(m);
  };

  constructor(port: ControlPort, descriptor: InboxDescriptor, options: InboxOptions = {}) {
    this.id = descriptor.id;
    this.#port = port;
    this.#codec = options.codec ?? new Codec();
    this.inbox = new Inbox(descriptor.doorbell, { ...options, id: descriptor.id, codec: this.#codec });
    for (const { slot, ring, lane } of descriptor.rings) this.inbox.attach(slot, ring, lane);
    port.on('message', this.#listener);
  }

  /** The outbox to `to` on `lane` if it is wired already (no await on the hot path). */
  outboxIfReady(to: string, lane: Lane = 'normal'): Outbox | undefined {
    return this.#outboxes[lane].get(to);
  }

  /** The outbox to `to` on `lane`, asking the main thread for a ring the first time. */
  outbox(to: string, lane: Lane = 'normal'): Promise<Outbox> {
    const key = laneKey(lane, to);
    const ready = this.#outboxes[lane].get(to);
    if (ready) return Promise.resolve(ready);
    let p = this.#connecting.get(key);
    if (!p) {
      p = new Promise<Outbox>((resolve, reject) => {
        const requestId = this.#nextRequest++;
        this.#requests.set(requestId, { resolve, reject });
        const msg: TransportToMain = { type: 'ring-request', requestId, from: this.id, to, lane };
        this.#port.postMessage(msg);
      });
      this.#connecting.set(key, p);
      p.catch(() => this.#connecting.delete(key));
    }
    return p;
  }

  /** Drop every outbox to `to` (its inbox is gone for good): the rings' memory goes with them. */
  forget(to: string): void {
    for (const lane of Object.keys(this.#outboxes) as Lane[]) this.#outboxes[lane].delete(to);
  }

  close(): void {
    this.#port.off('message', this.#listener);
    for (const { reject } of this.#requests.values()) {
      reject(new RingmasterError('ERR_RING_CLOSED', `endpoint '${this.id}' closed before its ring request was answered`));
    }
    this.#requests.clear();
  }

  #handle(m: TransportToWorker): void {
    switch (m.type) {
      case 'ring-attach':
        this.inbox.attach(m.slot, m.ring, m.lane);
        return;
      case 'ring-grant': {
        const req = this.#requests.get(m.requestId);
        if (!req) return;
        this.#requests.delete(m.requestId);
        const out = new Outbox(m.grant, this.#codec);
        const key = laneKey(m.grant.lane, m.grant.to);
        this.#outboxes[m.grant.lane].set(m.grant.to, out);
        this.#connecting.delete(key);
        req.resolve(out);
        return;
      }
      case 'ring-revoked':
        this.forget(m.to);
        return;
      case 'ring-detach':
        this.inbox.detach(m.slot);
        return;
      case 'ring-refused': {
        const req = this.#requests.get(m.requestId);
        if (!req) return;
        this.#requests.delete(m.requestId);
        req.reject(new RingmasterError(m.code as ErrorCode, m.message));
        return;
      }
    }
  }
}
