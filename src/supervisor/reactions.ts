/**
 * How a supervisor schedules its reactions: one at a time, in order (so two
 * crashes never interleave their restarts), with backoff waits held apart
 * so that stopping the supervisor can end every one of them at once.
 */

/** Operations run one after another; a failed one does not stop the next. */
export class ReactionQueue {
  #tail: Promise<void> = Promise.resolve();

  /** Queue `op`; its outcome goes nowhere (a reaction to a child's exit). */
  enqueue(op: () => Promise<void>): void {
    this.#tail = this.#tail.then(op, op).catch(() => {});
  }

  /** Queue `op` and settle as it does (an operator's action, whose caller wants the result). */
  run(op: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(op, op);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Settles once everything queued so far has run. */
  settled(): Promise<void> {
    return this.#tail;
  }
}

/** Pending backoff waits; `cancelAll` ends each one (a sleeper wakes, a scheduled call is dropped). */
export class BackoffWaits {
  readonly #pending = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  /** Call `fn` after `ms`, unless cancelled first. */
  later(ms: number, fn: () => void): void {
    const s = {
      timer: setTimeout(() => {
        this.#pending.delete(s);
        fn();
      }, ms),
      resolve: () => {},
    };
    this.#pending.add(s);
  }

  /** Resolves after `ms`, or at once when cancelled. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const s = { timer: setTimeout(() => (this.#pending.delete(s), resolve()), ms), resolve };
      this.#pending.add(s);
    });
  }

  cancelAll(): void {
    for (const s of this.#pending) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.#pending.clear();
  }
}
