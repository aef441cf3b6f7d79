import { InboxFullError, InvalidOptionError, NoSuchActorError } from '../errors.js';
import { createDoorbell } from '../ring/doorbell.js';
import { DEFAULT_RING_CAPACITY_BYTES, DEFAULT_SENDER_SLOTS } from '../ring/layout.js';
import { createRing, reuseRing, ringDrained, setConsumerClosed } from '../ring/ring.js';
import { laneKey, type InboxDescriptor, type Lane, type RingGrant } from './protocol.js';

export interface RegisterOptions {
  /** Most senders this inbox can have; default DEFAULT_SENDER_SLOTS. */
  senderSlots?: number;
  /** Data-area size of each ring into this inbox, bytes (power of two); default DEFAULT_RING_CAPACITY_BYTES. */
  ringBytes?: number;
  /** Senders write self-contained frames (no ring's records), which the reader can pass on as they are (a cluster proxy's). */
  plain?: boolean;
}

interface InboxRecord {
  id: string;
  doorbell: SharedArrayBuffer;
  senderSlots: number;
  ringBytes: number;
  plain: boolean;
  /** laneKey(lane, sender id) → slot. */
  bySender: Map<string, number>;
  /** Indexed by slot; null for a slot that is free. */
  rings: Array<{ slot: number; ring: SharedArrayBuffer; lane: Lane; sender: string } | null>;
  /** Slots free for a new sender. */
  free: number[];
  /** Slots whose sender is gone for good, kept until the receiver has read what it left in them. */
  retiring: Set<number>;
  /**
   * Indexed by slot: the drained ring a departed sender left in a free slot,
   * for the slot's next sender. Reusing it keeps the inbox's shared memory at
   * the most senders it had at once, instead of a new ring per sender that
   * the old one's readers free only at their next full collection.
   */
  spare: Array<{ ring: SharedArrayBuffer; lane: Lane } | undefined>;
}

/** What the switchboard tells the threads around it. */
export interface SwitchboardEvents {
  /** A new ring into `to`, in `slot` (a control message to the receiving thread). */
  attach(to: string, slot: number, ring: SharedArrayBuffer, lane: Lane): void;
  /** The ring in `slot` of `to` is drained and its sender gone: the receiving thread may drop it. */
  detach(to: string, slot: number): void;
  /** Inbox `to` is gone for good: `sender` must drop its outboxes to it. */
  revoke(sender: string, to: string): void;
}

/**
 * Main-thread registry of every inbox and the rings wired into it. It owns
 * the shared memory: a receiver that restarts is handed the same doorbell and
 * rings (so unread messages survive it), and a sender that restarts is
 * granted the same ring again.
 *
 * Rings are created on a pair's first message rather than all-to-all up front:
 * N actors need at most the pairs that actually talk, not N². A sender gone
 * for good gives its slots back: each of its rings is reused for a new sender
 * once the receiver has read what it left there, so an inbox's memory is
 * bounded by its slots, not by every sender it ever had.
 */
export class Switchboard {
  readonly #inboxes = new Map<string, InboxRecord>();
  /** sender id → the inboxes it holds a slot in. */
  readonly #sendsTo = new Map<string, Set<string>>();
  readonly #events: SwitchboardEvents;

  constructor(events: SwitchboardEvents) {
    this.#events = events;
  }

  register(id: string, options: RegisterOptions = {}): InboxDescriptor {
    if (this.#inboxes.has(id)) throw new InvalidOptionError(`inbox '${id}'`, 'is registered already');
    const senderSlots = options.senderSlots ?? DEFAULT_SENDER_SLOTS;
    const ringBytes = options.ringBytes ?? DEFAULT_RING_CAPACITY_BYTES;
    createRing(ringBytes); // validate the size now, not at the first message
    const rec: InboxRecord = { id, doorbell: createDoorbell(senderSlots), senderSlots, ringBytes, plain: options.plain === true, bySender: new Map(), rings: [], free: [], retiring: new Set(), spare: [] };
    this.#inboxes.set(id, rec);
    return this.describe(id);
  }

  has(id: string): boolean {
    return this.#inboxes.has(id);
  }

  /** The inbox as a (re)starting receiver must attach it: doorbell and every ring in use. */
  describe(id: string): InboxDescriptor {
    const rec = this.#record(id, 'describe');
    const rings: InboxDescriptor['rings'] = [];
    for (const r of rec.rings) if (r) rings.push({ slot: r.slot, ring: r.ring, lane: r.lane });
    return { id, doorbell: rec.doorbell, rings };
  }

  /** Sender slots of `id` in use now (rings not yet drained after their sender left included). */
  slotsInUse(id: string): number {
    const rec = this.#record(id, 'slotsInUse');
    return rec.rings.length - rec.free.length;
  }

  /** The ring from `from` to `to` on `lane`, created on first use. Idempotent per pair and lane. */
  connect(from: string, to: string, lane: Lane = 'normal'): RingGrant {
    const rec = this.#record(to, `connect from '${from}'`);
    const key = laneKey(lane, from);
    let slot = rec.bySender.get(key);
    if (slot === undefined) {
      slot = this.#freeSlot(rec);
      if (slot === undefined) {
        throw new InboxFullError(`connect '${from}' → '${to}': all ${rec.senderSlots} sender slots of '${to}' are taken by live senders or hold unread messages`);
      }
      const ring = this.#ringFor(rec, slot, lane);
      rec.rings[slot] = { slot, ring, lane, sender: from };
      rec.bySender.set(key, slot);
      let to_ = this.#sendsTo.get(from);
      if (!to_) this.#sendsTo.set(from, (to_ = new Set()));
      to_.add(to);
      this.#events.attach(to, slot, ring, lane);
    }
    const grant: RingGrant = { to, lane, slot, ring: rec.rings[slot]!.ring, doorbell: rec.doorbell };
    if (rec.plain) grant.plain = true;
    return grant;
  }

  /**
   * `sender` is gone for good (its thread will never write again): give back
   * every slot it holds. A drained ring frees its slot now; one with unread
   * messages keeps them for its receiver and frees the slot once read.
   */
  releaseSender(sender: string): void {
    const receivers = this.#sendsTo.get(sender);
    this.#sendsTo.delete(sender);
    for (const to of receivers ?? []) {
      const rec = this.#inboxes.get(to);
      if (!rec) continue;
      for (const [key, slot] of rec.bySender) {
        if (rec.rings[slot]?.sender !== sender) continue;
        rec.bySender.delete(key);
        rec.retiring.add(slot);
      }
      this.#sweep(rec);
    }
  }

  /**
   * Inbox `id` is gone for good (its mail was dead-lettered already): forget
   * it and its rings, and tell every sender that holds a ring into it to drop
   * it. Its own slots in other inboxes are released too.
   */
  unregister(id: string): void {
    const rec = this.#inboxes.get(id);
    if (rec) {
      this.#inboxes.delete(id);
      const senders = new Set<string>();
      for (const r of rec.rings) if (r) senders.add(r.sender);
      for (const sender of senders) {
        this.#sendsTo.get(sender)?.delete(id);
        this.#events.revoke(sender, id);
      }
    }
    this.releaseSender(id);
  }

  /**
   * Close (or reopen) the consumer side of every ring into `id`: while closed,
   * senders get 'closed' at once instead of filling a ring nobody reads.
   */
  setClosed(id: string, closed: boolean): void {
    const rec = this.#inboxes.get(id);
    if (!rec) return;
    for (const r of rec.rings) if (r) setConsumerClosed(r.ring, closed);
  }

  /** A slot for a new sender: a free one, one whose departed sender's ring is drained now, or a new one. */
  #freeSlot(rec: InboxRecord): number | undefined {
    if (rec.free.length === 0) this.#sweep(rec);
    const reused = rec.free.pop();
    if (reused !== undefined) return reused;
    return rec.rings.length < rec.senderSlots ? rec.rings.push(null) - 1 : undefined;
  }

  /**
   * The ring for a new sender in `slot`: the one its departed sender left
   * there when it was on the same lane, or a new one. Until the receiver has
   * taken the detach and the attach, its old reader of the slot may read the
   * new sender's first frames: the same ring, the same lane, its dictionary
   * continued, so they are read as the new reader would.
   */
  #ringFor(rec: InboxRecord, slot: number, lane: Lane): SharedArrayBuffer {
    const spare = rec.spare[slot];
    rec.spare[slot] = undefined;
    return spare && spare.lane === lane && reuseRing(spare.ring, rec.ringBytes) ? spare.ring : createRing(rec.ringBytes);
  }

  /**
   * Free every retiring slot whose ring the receiver has read to the end. The
   * receiver is told to drop its reader; the next sender in the slot gets the
   * ring, attached afresh (its reader starts where the last one stopped).
   */
  #sweep(rec: InboxRecord): void {
    for (const slot of rec.retiring) {
      const r = rec.rings[slot];
      if (r && !ringDrained(r.ring)) continue;
      rec.retiring.delete(slot);
      rec.rings[slot] = null;
      rec.spare[slot] = r ? { ring: r.ring, lane: r.lane } : undefined;
      rec.free.push(slot);
      this.#events.detach(rec.id, slot);
    }
  }

  #record(id: string, where: string): InboxRecord {
    const rec = this.#inboxes.get(id);
    if (!rec) throw new NoSuchActorError(id, where);
    return rec;
  }
}
