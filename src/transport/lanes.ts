import type { Doorbell } from '../ring/doorbell.js';
import type { Lane } from './protocol.js';

/** Index of each lane's round-robin queue, most urgent first. */
export const LANE_INDEX: Record<Lane, number> = { system: 0, high: 1, normal: 2, reply: 3 };
export const SYSTEM_QUEUE = LANE_INDEX.system;
/** The mail lanes (every lane but `reply`), most urgent first. */
export const MAIL_QUEUES = [0, 1, 2] as const;
export const ALL_QUEUES = [0, 1, 2, 3] as const;
export const REPLY_QUEUE = [3] as const;
/** One lane's queue alone, by lane (built once: a drain of one lane allocates nothing). */
export const LANE_QUEUES: Record<Lane, readonly number[]> = { system: [0], high: [1], normal: [2], reply: REPLY_QUEUE };

/**
 * One sender's turn: take up to `take` frames from the ring in `slot`, handing
 * each to `fn`, and return how many it took (fewer means the ring has nothing
 * more for now).
 */
export type Turn<F> = (slot: number, take: number, fn: F) => number;

/**
 * The inbox's scheduler: senders (ring slots) with frames wait in a
 * round-robin queue per lane, and each gets a bounded turn before the next,
 * so a busy sender cannot starve a slow one.
 *
 * The doorbell's READY bitmap says which rings were rung; `collect` moves
 * those bits into the queues, where a slot stays until a turn finds its ring
 * empty. `#queued[slot]` is 1 while the slot is in a queue, so a ring rung
 * again meanwhile is not queued twice.
 */
export class LaneQueues {
  /** Round-robin queues of slots, indexed by LANE_INDEX. */
  readonly queues: readonly number[][] = [[], [], [], []];
  readonly #queued: Uint8Array;
  readonly #lanes: Lane[];

  constructor(slots: number) {
    this.#queued = new Uint8Array(slots);
    this.#lanes = new Array<Lane>(slots).fill('normal');
  }

  laneOf(slot: number): Lane {
    return this.#lanes[slot]!;
  }

  /** The ring in `slot` feeds `lane` from now on. */
  setLane(slot: number, lane: Lane): void {
    if (this.#queued[slot] === 1 && this.#lanes[slot] !== lane) {
      // Rung before it was attached, it was queued under the default lane: move it to its own,
      // or a reply would sit among the mail where drainReplies never looks.
      const q = this.queues[LANE_INDEX[this.#lanes[slot]!]]!;
      q.splice(q.indexOf(slot), 1);
      this.queues[LANE_INDEX[lane]]!.push(slot);
    }
    this.#lanes[slot] = lane;
  }

  /** True while some slot is queued (it may hold frames). */
  get any(): boolean {
    const q = this.queues;
    return q[0]!.length + q[1]!.length + q[2]!.length + q[3]!.length > 0;
  }

  /** Move the doorbell's READY bits into the round-robin queues. */
  collect(doorbell: Doorbell): void {
    for (let w = 0, words = doorbell.readyWords; w < words; w++) {
      let bits = doorbell.takeReadyWord(w);
      while (bits !== 0) {
        const slot = (w << 5) | (31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
        if (this.#queued[slot] === 0) {
          this.#queued[slot] = 1;
          this.queues[LANE_INDEX[this.#lanes[slot]!]]!.push(slot);
        }
      }
    }
  }

  /** Entry `i` of queue `lane` has nothing more for now: out of the queue until it rings again. */
  unqueue(lane: number, i: number): void {
    const q = this.queues[lane]!;
    this.#queued[q[i]!] = 0;
    q.splice(i, 1);
  }

  /** Entry `i` of queue `lane` had its turn: to the back of the queue. */
  rotate(lane: number, i: number): void {
    const q = this.queues[lane]!;
    const slot = q[i]!;
    if (i === 0) q.shift();
    else q.splice(i, 1);
    q.push(slot);
  }

  /**
   * Give the queued senders of `lanes` turns of up to `fairBatch` frames, in
   * rounds, until `max` frames are taken or nobody has more; `skip` (the slot
   * whose message is in flight) waits. Returns how many frames were taken.
   * `turn` is bound once by the caller and `fn` passed through it, so a call
   * allocates nothing.
   */
  rounds<F>(doorbell: Doorbell, lanes: readonly number[], max: number, fairBatch: number, skip: number, turn: Turn<F>, fn: F): number {
    let n = 0;
    this.collect(doorbell);
    for (const lane of lanes) {
      const q = this.queues[lane]!;
      // One round per loop: every queued sender gets one turn of up to fairBatch frames.
      while (n < max && q.length > 0) {
        const round = q.length;
        let progressed = false;
        for (let k = 0, i = 0; k < round && n < max; k++) {
          const slot = q[i]!;
          if (slot === skip) {
            i++;
            continue;
          }
          const take = Math.min(max - n, fairBatch);
          const got = turn(slot, take, fn);
          n += got;
          if (got > 0) progressed = true;
          if (got < take) this.unqueue(lane, i);
          else this.rotate(lane, i);
        }
        if (!progressed) break;
        this.collect(doorbell);
      }
    }
    return n;
  }
}
