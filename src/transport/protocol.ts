/**
 * Control messages of the transport, both directions of the worker boundary.
 * Low rate (once per pair of actors); the data itself never takes this path.
 */
import type { Priority } from '../codec/envelope.js';

/**
 * Which of a receiver's queues a ring feeds. `system`, `high` and `normal`
 * (one per message priority) are the mail lanes — mail is every lane but
 * `reply` — handled one message at a time, the most urgent non-empty lane
 * first; `reply` carries answers to the receiver's own asks and is read
 * eagerly, even while a handler is waiting for one of those answers. A lane
 * per ring (not a priority per frame) is what lets a high message overtake a
 * flood of normal ones: frames in one ring are FIFO.
 */
export type Lane = Priority | 'reply';

/** Lanes whose messages count against a mailbox's capacity: `system` (control signals) and replies never do. */
export function countedLane(lane: Lane): boolean {
  return lane === 'normal' || lane === 'high';
}

/** The lane a message of `priority` travels on (anything but `system` or `high` is normal). */
export function laneOf(priority: Priority | undefined): Lane {
  return priority === 'high' ? 'high' : priority === 'system' ? 'system' : 'normal';
}

/**
 * Key of one (lane, actor) pair in the maps of the transport and the actor
 * layer. NUL cannot occur in an actor id (nor in a lane), so keys of
 * different lanes never meet.
 */
export function laneKey(lane: Lane, id: string): string {
  return `${lane}\u0000${id}`;
}

/** What a sender needs to write to a receiver directly. */
export interface RingGrant {
  to: string;
  lane: Lane;
  /** The sender's slot in the receiver's inbox (its bit in the READY bitmap). */
  slot: number;
  ring: SharedArrayBuffer;
  doorbell: SharedArrayBuffer;
  /** Write self-contained frames, without the ring's records (the reader passes them on as they are). */
  plain?: boolean;
}

/** The initial inbox of a receiving thread: its doorbell and the rings already wired to it. */
export interface InboxDescriptor {
  id: string;
  doorbell: SharedArrayBuffer;
  rings: Array<{ slot: number; ring: SharedArrayBuffer; lane: Lane }>;
}

export type TransportToMain = { type: 'ring-request'; requestId: number; from: string; to: string; lane: Lane };

export type TransportToWorker =
  | { type: 'ring-attach'; slot: number; ring: SharedArrayBuffer; lane: Lane }
  | { type: 'ring-grant'; requestId: number; grant: RingGrant }
  | { type: 'ring-refused'; requestId: number; to: string; code: string; message: string }
  /** Inbox `to` is gone for good: drop every outbox to it (a later send asks again, and learns it is gone). */
  | { type: 'ring-revoked'; to: string }
  /** The sender of the ring in `slot` is gone and the ring is drained: stop reading it. */
  | { type: 'ring-detach'; slot: number };

export function isTransportToMain(m: unknown): m is TransportToMain {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ring-request';
}

export function isTransportToWorker(m: unknown): m is TransportToWorker {
  const t = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return t === 'ring-attach' || t === 'ring-grant' || t === 'ring-refused' || t === 'ring-revoked' || t === 'ring-detach';
}
