import type { CrashCause, NodeDownReason } from '../errors.js';
import { InvalidOptionError } from '../errors.js';

/** Why a watched actor's incarnation is over, as its watcher is told. */
export type TerminatedReason = 'crashed' | 'stopped' | 'node-down' | 'no-such-actor';

/**
 * What a watcher gets once the actor it watches has ended (`onTerminated`
 * in an actor, the listener of `system.watch` on the main thread): one per
 * watch. `node` names the node that hosted the actor when it was another
 * node's.
 */
export type Terminated =
  | { type: 'terminated'; id: string; reason: 'crashed'; node?: string; error: { message: string; code?: string; cause: CrashCause } }
  | { type: 'terminated'; id: string; reason: 'stopped'; node?: string; detail: string }
  | { type: 'terminated'; id: string; reason: 'node-down'; node: string; detail: NodeDownReason }
  | { type: 'terminated'; id: string; reason: 'no-such-actor'; node?: string };

/** The payload of a `terminated` envelope: the message, and which watch of the watcher it ends. */
export interface TerminatedNotice {
  t: Terminated;
  /** The watch's number, as the watcher gave it: a notice for an earlier watch of the same id is stale. */
  seq: number;
  /** The watcher's incarnation that made the watch: a notice left in the inbox for an earlier one is stale. */
  inc: number;
}

/** Check the id given to `watch`/`unwatch` (`where` names the call). */
export function checkWatchId(id: unknown, where: string, self?: string): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidOptionError(where, `must be a non-empty actor id, got ${id === '' ? "''" : typeof id}`);
  if (id === self) throw new InvalidOptionError(where, `actor '${self}' cannot watch itself`);
  return id;
}

const REASONS = new Set<string>(['crashed', 'stopped', 'node-down', 'no-such-actor']);

/** A Terminated read from bytes of another node or a ring (plain data), or null when it is not one. */
export function readTerminated(v: unknown): Terminated | null {
  const t = v as Partial<Record<string, unknown>> | null;
  if (typeof t !== 'object' || t === null || t.type !== 'terminated' || typeof t.id !== 'string' || typeof t.reason !== 'string' || !REASONS.has(t.reason)) return null;
  if (t.node !== undefined && typeof t.node !== 'string') return null;
  if (t.reason === 'crashed') {
    const e = t.error as Partial<Record<string, unknown>> | undefined;
    if (typeof e !== 'object' || e === null || typeof e.message !== 'string' || typeof e.cause !== 'string') return null;
  }
  if ((t.reason === 'stopped' || t.reason === 'node-down') && typeof t.detail !== 'string') return null;
  if (t.reason === 'node-down' && typeof t.node !== 'string') return null;
  return t as Terminated;
}

/**
 * One incarnation's watches, on the watcher's side: the id watched and the
 * number of its watch. Watching an id twice is one watch; a notice counts
 * only for the watch it was sent for (one that was unwatched, or ended and
 * watched again, makes an older notice stale), and it ends that watch.
 */
export class WatchSet {
  readonly #live = new Map<string, number>();
  readonly #inc: number;
  #next = 0;

  /** The watches of incarnation `inc` of the watcher. */
  constructor(inc: number) {
    this.#inc = inc;
  }

  /** A new watch: its number; 0 when `id` is watched already. */
  watch(id: string): number {
    if (this.#live.has(id)) return 0;
    const seq = ++this.#next;
    this.#live.set(id, seq);
    return seq;
  }

  /** False when `id` was not watched (an unwatch after terminated is a no-op). */
  unwatch(id: string): boolean {
    return this.#live.delete(id);
  }

  /** The message for a notice, ending its watch; null for a stale one. */
  take(notice: TerminatedNotice): Terminated | null {
    const t = notice?.t;
    if (!t || notice.inc !== this.#inc || this.#live.get(t.id) !== notice.seq) return null;
    this.#live.delete(t.id);
    return t;
  }

  get size(): number {
    return this.#live.size;
  }
}
