import { InboxFullError, InvalidOptionError, NoSuchActorError } from '../errors.js';
import { createDoorbell } from '../ring/doorbell.js';
import { DEFAULT_RING_CAPACITY_BYTES, DEFAULT_SENDER_SLOTS } from '../ring/layout.js';
import { createRing, setConsumerClosed } from '../ring/ring.js';
import { laneKey, type InboxDescriptor, type Lane, type RingGrant } from './protocol.js';

export interface RegisterOptions {
  /** Most senders this inbox can have; default DEFAULT_SENDER_SLOTS. */
  senderSlots?: number;
  /** Data-area size of each ring into this inbox, bytes (power of two); default DEFAULT_RING_CAPACITY_BYTES. */
  ringBytes?: number;
}

interface InboxRecord {
  id: string;
  doorbell: SharedArrayBuffer;
  senderSlots: number;
  ringBytes: number;
  /** laneKey(lane, sender id) → slot. */
  bySender: Map<string, number>;
  rings: Array<{ slot: number; ring: SharedArrayBuffer; lane: Lane }>;
}

/**
 * Main-thread registry of every inbox and the rings wired into it. It owns
 * the shared memory: a receiver that restarts is handed the same doorbell and
 * rings (so unread messages survive it), and a sender that restarts is
 * granted the same ring again.
 *
 * Rings are created on a pair's first message rather than all-to-all up front:
 * N actors need at most the pairs that actually talk, not N².
 */
export class Switchboard {
  readonly #inboxes = new Map<string, InboxRecord>();
  readonly #onAttach: (to: string, slot: number, ring: SharedArrayBuffer, lane: Lane) => void;

  /** `onAttach` tells the receiving thread about a new ring (e.g. by a control message). */
  constructor(onAttach: (to: string, slot: number, ring: SharedArrayBuffer, lane: Lane) => void) {
    this.#onAttach = onAttach;
  }

  register(id: string, options: RegisterOptions = {}): InboxDescriptor {
    if (this.#inboxes.has(id)) throw new InvalidOptionError(`inbox '${id}'`, 'is registered already');
    const senderSlots = options.senderSlots ?? DEFAULT_SENDER_SLOTS;
    const ringBytes = options.ringBytes ?? DEFAULT_RING_CAPACITY_BYTES;
    createRing(ringBytes); // validate the size now, not at the first message
    const rec: InboxRecord = { id, doorbell: createDoorbell(senderSlots), senderSlots, ringBytes, bySender: new Map(), rings: [] };
    this.#inboxes.set(id, rec);
    return this.describe(id);
  }

  has(id: string): boolean {
    return this.#inboxes.has(id);
  }

  /** The inbox as a (re)starting receiver must attach it: doorbell and every ring so far. */
  describe(id: string): InboxDescriptor {
    const rec = this.#record(id, 'describe');
    return { id, doorbell: rec.doorbell, rings: rec.rings.slice() };
  }

  /** The ring from `from` to `to` on `lane`, created on first use. Idempotent per pair and lane. */
  connect(from: string, to: string, lane: Lane = 'normal'): RingGrant {
    const rec = this.#record(to, `connect from '${from}'`);
    const key = laneKey(lane, from);
    let slot = rec.bySender.get(key);
    if (slot === undefined) {
      if (rec.rings.length >= rec.senderSlots) {
        throw new InboxFullError(`connect '${from}' → '${to}': all ${rec.senderSlots} sender slots of '${to}' are taken`);
      }
      slot = rec.rings.length;
      const ring = createRing(rec.ringBytes);
      rec.rings.push({ slot, ring, lane });
      rec.bySender.set(key, slot);
      this.#onAttach(to, slot, ring, lane);
    }
    return { to, lane, slot, ring: rec.rings[slot]!.ring, doorbell: rec.doorbell };
  }

  /**
   * Close (or reopen) the consumer side of every ring into `id`: while closed,
   * senders get 'closed' at once instead of filling a ring nobody reads.
   */
  setClosed(id: string, closed: boolean): void {
    const rec = this.#inboxes.get(id);
    if (!rec) return;
    for (const { ring } of rec.rings) setConsumerClosed(ring, closed);
  }

  #record(id: string, where: string): InboxRecord {
    const rec = this.#inboxes.get(id);
    if (!rec) throw new NoSuchActorError(id, where);
    return rec;
  }
}
