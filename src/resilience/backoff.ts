import {
  decorrelatedJitterGenerator,
  DelegateBackoff,
  ExponentialBackoff,
  fullJitterGenerator,
  halfJitterGenerator,
  noJitterGenerator,
  type GeneratorFn,
  type IBackoff,
  type IBackoffFactory,
} from 'cockatiel';

/** How the delay grows between attempts: `fixed` d, d, d; `linear` d, d+i, d+2i; `exponential` d, 2d, 4d (all capped at maxDelayMs). */
export type BackoffKind = 'fixed' | 'linear' | 'exponential';
/**
 * How the delay is randomised: `none`; `full` anywhere in [0, delay);
 * `half` in [delay/2, delay); `decorrelated` (exponential only) Polly's
 * decorrelated jitter, which cockatiel uses by default.
 */
export type Jitter = 'none' | 'full' | 'half' | 'decorrelated';

/**
 * The delays between the attempts of one retried call, options resolved.
 * Not the supervisor's restart backoff (RestartBackoff): see there for why
 * the two differ.
 */
export interface ResolvedRetryBackoff {
  kind: BackoffKind;
  initialDelayMs: number;
  /** Added per retry by the linear kind. */
  incrementMs: number;
  maxDelayMs: number;
  jitter: Jitter;
}

// Each generator keeps its own state shape; ExponentialBackoff only hands it back.
const GENERATORS: Record<Jitter, GeneratorFn<unknown>> = {
  none: noJitterGenerator as GeneratorFn<unknown>,
  full: fullJitterGenerator as GeneratorFn<unknown>,
  half: halfJitterGenerator as GeneratorFn<unknown>,
  decorrelated: decorrelatedJitterGenerator as GeneratorFn<unknown>,
};

/** cockatiel's formulas for full and half jitter, applied to a fixed or linear delay. */
function jittered(delay: number, jitter: Exclude<Jitter, 'decorrelated'>): number {
  if (jitter === 'full') return Math.floor(Math.random() * delay);
  if (jitter === 'half') return Math.floor((delay + Math.random() * delay) / 2);
  return delay;
}

/**
 * The cockatiel backoff for these options: ExponentialBackoff with the
 * matching jitter generator, or a DelegateBackoff computing a fixed or
 * linear delay (cockatiel has no linear backoff, and its ConstantBackoff
 * has no jitter).
 */
export function backoffFactory<C extends { attempt: number }>(b: ResolvedRetryBackoff): IBackoffFactory<C> {
  if (b.kind === 'exponential') {
    return new ExponentialBackoff<unknown>({ initialDelay: b.initialDelayMs, maxDelay: b.maxDelayMs, generator: GENERATORS[b.jitter] }) as IBackoffFactory<C>;
  }
  const jitter = b.jitter === 'decorrelated' ? 'none' : b.jitter;
  return new DelegateBackoff<C>((context) => {
    const base = b.kind === 'fixed' ? b.initialDelayMs : b.initialDelayMs + b.incrementMs * (context.attempt - 1);
    return jittered(Math.min(b.maxDelayMs, base), jitter);
  });
}

/**
 * A backoff that calls `check(context, delay)` before each delay is used;
 * `check` may throw to stop retrying (cockatiel's retry rejects with what a
 * backoff throws).
 */
export function checkedBackoff<C>(inner: IBackoffFactory<C>, check: (context: C, delayMs: number) => void): IBackoffFactory<C> {
  const wrap = (b: IBackoff<C>): IBackoff<C> => ({
    duration: b.duration,
    next: (context) => {
      const n = b.next(context);
      check(context, n.duration);
      return wrap(n);
    },
  });
  return {
    next: (context) => {
      const first = inner.next(context);
      check(context, first.duration);
      return wrap(first);
    },
  };
}
