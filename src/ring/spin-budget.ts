import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { MAX_SPINNERS, MAX_SPIN_MICROS } from '../defaults.js';
import { InvalidOptionError } from '../errors.js';

export { MAX_SPINNERS, MAX_SPIN_MICROS };
/**
 * A seat not given back within this long is taken to be a dead thread's (a
 * worker terminated mid-spin) and may be claimed again, ms. Spins are capped
 * far below it (MAX_SPIN_MICROS).
 */
export const SEAT_STALE_MS = 250;

/** Spinners allowed by default: all cores but one (at least one), so a spinner never takes the last core. */
export function defaultMaxSpinners(): number {
  return Math.max(1, availableParallelism() - 1);
}

// Layout (Int32): [0] seats, [1] until when spinning is off because a
// spinner found itself preempted (a stamp as below, 0 = not off), then two words per seat: its claim time (0 =
// free, else the low 31 bits of the wall clock in ms, never 0) and a count of
// its claims, which tells a holder's ticket from a later claimant's.
const SEATS = 0;
const CONTENDED_UNTIL = 1;
const FIRST_SEAT = 2;

/**
 * How many threads of the process may spin at once: spinning is a shared
 * resource of the machine, not a habit of each receiver. A receiver that
 * wants to spin takes a seat first and gives it back when it stops; with no
 * seat free it parks at once. On a machine with fewer cores than busy
 * receivers this is what keeps spinning from fighting the threads doing the
 * work.
 *
 * Lives in a SharedArrayBuffer handed to every worker. A seat is a word
 * holding its claim time, so a thread that dies while seated (terminated
 * mid-spin) loses its seat after SEAT_STALE_MS instead of keeping it for good.
 */
export class SpinBudget {
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #seats: number;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.#seats = this.#i32[SEATS]!;
    if (this.#seats < 1 || this.#seats > MAX_SPINNERS || buffer.byteLength < (FIRST_SEAT + this.#seats * 2) * 4) {
      throw new InvalidOptionError('spin budget', `buffer of ${buffer.byteLength} bytes is not a spin budget (seats ${this.#seats})`);
    }
  }

  static create(maxSpinners: number): SpinBudget {
    if (!Number.isInteger(maxSpinners) || maxSpinners < 1 || maxSpinners > MAX_SPINNERS) {
      throw new InvalidOptionError('maxSpinners', `must be an integer from 1 to ${MAX_SPINNERS}, got ${maxSpinners}`);
    }
    const sab = new SharedArrayBuffer((FIRST_SEAT + maxSpinners * 2) * 4);
    new Int32Array(sab)[SEATS] = maxSpinners;
    return new SpinBudget(sab);
  }

  get seats(): number {
    return this.#seats;
  }

  /** Seats taken now (stale ones included until someone reclaims them). */
  get spinning(): number {
    let n = 0;
    for (let s = 0; s < this.#seats; s++) if (Atomics.load(this.#i32, FIRST_SEAT + s * 2) !== 0) n++;
    return n;
  }

  /**
   * Take a seat: returns its ticket (give it to `leave`), or -1 when every
   * seat is taken and the caller should park instead of spinning.
   */
  enter(): number {
    const now = stamp();
    const i32 = this.#i32;
    for (let s = 0; s < this.#seats; s++) {
      const at = FIRST_SEAT + s * 2;
      const v = Atomics.load(i32, at);
      if (v !== 0 && ((now - v) & 0x7fff_ffff) < SEAT_STALE_MS) continue;
      if (Atomics.compareExchange(i32, at, v, now) === v) return (s << 16) | ((Atomics.add(i32, at + 1, 1) + 1) & 0xffff);
    }
    return -1;
  }

  /**
   * A spinner was preempted in the middle of its spin: the machine has more
   * runnable threads than cores, and a spinning thread only takes CPU from
   * them (and, descheduled, sees no message until it runs again, while a
   * parked one is woken). Spinning stops for every thread for `ms`.
   */
  markContended(ms: number): void {
    Atomics.store(this.#i32, CONTENDED_UNTIL, ((stamp() + ms) & 0x7fff_ffff) || 1);
  }

  /** True while spinning is off after a preempted spin (see markContended). */
  get contended(): boolean {
    const until = Atomics.load(this.#i32, CONTENDED_UNTIL);
    if (until === 0) return false;
    // Wrapping difference: until − now, positive while the window is open.
    const left = ((until - stamp()) << 1) >> 1;
    return left > 0;
  }

  /** Give back the seat `ticket` came from (unless it was reclaimed as stale meanwhile). */
  leave(ticket: number): void {
    if (ticket < 0) return;
    const at = FIRST_SEAT + (ticket >>> 16) * 2;
    if ((Atomics.load(this.#i32, at + 1) & 0xffff) === (ticket & 0xffff)) Atomics.store(this.#i32, at, 0);
  }
}

/** The low 31 bits of the wall clock in ms, never 0. */
function stamp(): number {
  return ((performance.timeOrigin + performance.now()) & 0x7fff_ffff) || 1;
}

let processBudget: SpinBudget | null = null;

/**
 * The budget every system of this process shares (created on first use, on
 * the main thread; workers get its buffer in their boot data).
 * `maxSpinners` applies when it is created; a later, different figure resizes
 * it for the systems started from then on.
 */
export function processSpinBudget(maxSpinners = defaultMaxSpinners()): SpinBudget {
  if (!isMainThread) throw new InvalidOptionError('processSpinBudget', 'is made on the main thread; workers take its buffer from their boot data');
  if (processBudget === null || processBudget.seats !== maxSpinners) processBudget = SpinBudget.create(maxSpinners);
  return processBudget;
}
