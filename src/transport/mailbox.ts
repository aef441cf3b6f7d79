import { InvalidOptionError, type OverflowPolicy } from '../errors.js';
import {
  MAIL_CAPACITY,
  MAIL_OVERFLOW,
  MAIL_PENDING,
  MAIL_WAIT_MS,
  OVERFLOW_BACKPRESSURE,
  OVERFLOW_DROP_NEWEST,
  OVERFLOW_DROP_OLDEST,
  OVERFLOW_FAIL,
} from '../ring/layout.js';
import { waitAsync } from '../ring/wait.js';

export type { OverflowPolicy } from '../errors.js';

const POLICY_CODE: Record<OverflowPolicy, number> = {
  backpressure: OVERFLOW_BACKPRESSURE,
  'drop-newest': OVERFLOW_DROP_NEWEST,
  'drop-oldest': OVERFLOW_DROP_OLDEST,
  fail: OVERFLOW_FAIL,
};
const POLICIES: readonly OverflowPolicy[] = ['backpressure', 'drop-newest', 'drop-oldest', 'fail'];


export interface MailboxPolicy {
  /** Messages the mailbox holds (high + normal lanes); 0 = bounded only by its rings' bytes. */
  capacity: number;
  overflow: OverflowPolicy;
  /** `backpressure`: how long a sender waits for room before the message is dead-lettered, ms. */
  waitMs: number;
}

/** What a sender may do with one message, given the receiver's mailbox. */
export type Admission = 'admitted' | OverflowPolicy;

/**
 * A receiver's mailbox bound, kept in its doorbell so that every sender, in
 * whichever thread, applies it without asking anyone.
 *
 * Senders count a message in (`admit`) before writing it and the receiver
 * counts it out when it releases the message. Admission reserves with one
 * atomic add and undoes it when over the bound, so two senders racing for the
 * last place cannot both take it. A sender killed between admitting and
 * writing leaves the count one too high; a restart of the receiver does not
 * reset it (messages may still be in the rings), so the bound can drift by
 * the number of senders that died that way.
 *
 * An unbounded mailbox (capacity 0, the default) counts nothing: admit and
 * release are one plain load each, no read-modify-write on a line every
 * sender shares. Its depth is the rings' own (frames written minus frames
 * read, `ringDepth`), which is what status and metrics read anyway. When it
 * becomes bounded, `configure` is told the depth of the counted lanes and
 * the count starts from there; a message admitted across that change can
 * leave it one off.
 */
export class MailboxGate {
  readonly #i32: Int32Array;

  constructor(doorbell: SharedArrayBuffer) {
    this.#i32 = new Int32Array(doorbell);
  }

  /**
   * Main thread: set the bound (at registration and when the spec changes).
   * `countedDepth` is the number of messages in the counted lanes' rings now:
   * an unbounded mailbox did not count them, so a bound starts from it.
   */
  configure(policy: MailboxPolicy, countedDepth = 0): void {
    if (!Number.isInteger(policy.capacity) || policy.capacity < 0) throw new InvalidOptionError('mailbox.capacity', `must be an integer ≥ 0, got ${policy.capacity}`);
    Atomics.store(this.#i32, MAIL_WAIT_MS, Math.max(0, Math.min(2 ** 31 - 1, Math.round(policy.waitMs))));
    Atomics.store(this.#i32, MAIL_OVERFLOW, POLICY_CODE[policy.overflow]);
    if (policy.capacity !== 0 && Atomics.load(this.#i32, MAIL_CAPACITY) === 0) Atomics.store(this.#i32, MAIL_PENDING, countedDepth);
    Atomics.store(this.#i32, MAIL_CAPACITY, policy.capacity);
  }

  get policy(): MailboxPolicy {
    return { capacity: this.capacity, overflow: this.overflow, waitMs: Atomics.load(this.#i32, MAIL_WAIT_MS) };
  }

  get capacity(): number {
    return Atomics.load(this.#i32, MAIL_CAPACITY);
  }

  get overflow(): OverflowPolicy {
    return POLICIES[Atomics.load(this.#i32, MAIL_OVERFLOW)] ?? 'backpressure';
  }

  get waitMs(): number {
    return Atomics.load(this.#i32, MAIL_WAIT_MS);
  }

  /** Messages admitted and not yet released (counted only while the mailbox is bounded). */
  get pending(): number {
    return Atomics.load(this.#i32, MAIL_PENDING);
  }

  /**
   * Sender side: take a place for one message. 'admitted' means write it
   * (and `cancel()` if the write then fails); otherwise the mailbox is full
   * and the answer is the policy to apply. `drop-oldest` always admits: the
   * receiver sheds its oldest messages when it next reads.
   */
  admit(): Admission {
    const cap = Atomics.load(this.#i32, MAIL_CAPACITY);
    if (cap === 0) return 'admitted';
    const before = Atomics.add(this.#i32, MAIL_PENDING, 1);
    if (before < cap) return 'admitted';
    const policy = this.overflow;
    if (policy === 'drop-oldest') return 'admitted';
    this.#release(1);
    return policy;
  }

  /** Sender side: give back a place taken by `admit` for a message that was not written. */
  cancel(): void {
    this.#release(1);
  }

  /** Receiver side: `n` messages left the mailbox (handled, shed or dead-lettered). */
  release(n = 1): void {
    this.#release(n);
  }

  /** Receiver side: how many messages over the bound (for `drop-oldest`), 0 when within it. */
  excess(): number {
    const cap = Atomics.load(this.#i32, MAIL_CAPACITY);
    if (cap === 0) return 0;
    return Math.max(0, Atomics.load(this.#i32, MAIL_PENDING) - cap);
  }

  /** Sender side: wait (without blocking the loop) until a place may be free or `timeoutMs` passes. */
  async waitForRoom(timeoutMs: number): Promise<void> {
    const seen = Atomics.load(this.#i32, MAIL_PENDING);
    const cap = Atomics.load(this.#i32, MAIL_CAPACITY);
    if (cap === 0 || seen < cap) return;
    const w = waitAsync(this.#i32, MAIL_PENDING, seen, Math.max(0, timeoutMs));
    if (typeof w !== 'string') await w;
  }

  #release(n: number): void {
    const cap = Atomics.load(this.#i32, MAIL_CAPACITY);
    if (cap === 0) return; // unbounded: nothing was counted
    const before = Atomics.sub(this.#i32, MAIL_PENDING, n);
    // Only a full mailbox can have senders waiting on the count.
    if (before >= cap) Atomics.notify(this.#i32, MAIL_PENDING);
  }
}
