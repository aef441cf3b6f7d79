/**
 * The per-key state of each rate-limiting algorithm, as pure bookkeeping
 * over a clock reading `now` (ms, monotonic). Written here: lru-cache and
 * cockatiel have no rate limiter.
 */

/** `token-bucket`: `burst` tokens refilled at `limit` per `intervalMs`. `sliding-log`: at most `limit` permits in any `intervalMs`, exact (one timestamp per permit). `sliding-window`: the same, estimated from two counters. */
export type RateAlgorithm = 'token-bucket' | 'sliding-log' | 'sliding-window';

/** The answer to a request for permits. */
export interface RateDecision {
  allowed: boolean;
  /** Permits left right after this decision (whole ones). */
  remaining: number;
  /** When refused: ms until the permits asked for could be granted; 0 when allowed. */
  retryAfterMs: number;
}

export interface RateState {
  /** Take `permits` if they are free now. */
  take(now: number, permits: number): RateDecision;
}

export interface RateShape {
  limit: number;
  intervalMs: number;
  burst: number;
}

// Refill arithmetic is in floating point; a hair's difference must not refuse a permit that is due.
const EPSILON = 1e-9;

const allowed = (remaining: number): RateDecision => ({ allowed: true, remaining: Math.max(0, Math.floor(remaining + EPSILON)), retryAfterMs: 0 });
const refused = (remaining: number, retryAfterMs: number): RateDecision => ({
  allowed: false,
  remaining: Math.max(0, Math.floor(remaining + EPSILON)),
  retryAfterMs: Math.max(1, Math.ceil(retryAfterMs - EPSILON)),
});

class TokenBucket implements RateState {
  readonly #shape: RateShape;
  #tokens: number;
  #at: number;
  constructor(shape: RateShape, now: number) {
    this.#shape = shape;
    this.#tokens = shape.burst;
    this.#at = now;
  }

  take(now: number, permits: number): RateDecision {
    const { burst, limit, intervalMs } = this.#shape;
    // Multiply before dividing so whole intervals refill exact whole tokens.
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#at) * limit) / intervalMs);
    this.#at = now;
    if (this.#tokens + EPSILON >= permits) {
      this.#tokens = Math.max(0, this.#tokens - permits);
      return allowed(this.#tokens);
    }
    return refused(this.#tokens, ((permits - this.#tokens) * intervalMs) / limit);
  }
}

class SlidingLog implements RateState {
  /** When each permit still in the window was granted, oldest first. */
  readonly #log: number[] = [];
  readonly #shape: RateShape;
  constructor(shape: RateShape) {
    this.#shape = shape;
  }

  take(now: number, permits: number): RateDecision {
    const { limit, intervalMs } = this.#shape;
    let expired = 0;
    while (expired < this.#log.length && this.#log[expired]! <= now - intervalMs) expired++;
    if (expired > 0) this.#log.splice(0, expired);
    if (this.#log.length + permits <= limit) {
      for (let i = 0; i < permits; i++) this.#log.push(now);
      return allowed(limit - this.#log.length);
    }
    // The oldest permits must leave the window first; the last of those decides.
    const mustLeave = this.#log.length + permits - limit;
    return refused(limit - this.#log.length, this.#log[mustLeave - 1]! + intervalMs - now);
  }
}

class SlidingWindow implements RateState {
  #start = Number.NEGATIVE_INFINITY;
  #current = 0;
  #previous = 0;
  readonly #shape: RateShape;
  constructor(shape: RateShape) {
    this.#shape = shape;
  }

  take(now: number, permits: number): RateDecision {
    const { limit, intervalMs: I } = this.#shape;
    const start = Math.floor(now / I) * I;
    if (start !== this.#start) {
      this.#previous = start - this.#start === I ? this.#current : 0;
      this.#current = 0;
      this.#start = start;
    }
    const elapsed = now - start;
    // The previous window counts by the share of it the sliding window still overlaps.
    const estimate = (this.#previous * (I - elapsed)) / I + this.#current;
    if (estimate + permits <= limit + EPSILON) {
      this.#current += permits;
      return allowed(limit - estimate - permits);
    }
    if (this.#current + permits <= limit) {
      // Wait for the previous window's share to shrink enough.
      return refused(limit - estimate, I - elapsed - ((limit - this.#current - permits) * I) / this.#previous);
    }
    // Wait for the next window, where this one's count becomes the shrinking share.
    return refused(limit - estimate, I - elapsed + I * (1 - (limit - permits) / this.#current));
  }
}

export function createRateState(algorithm: RateAlgorithm, shape: RateShape, now: number): RateState {
  if (algorithm === 'token-bucket') return new TokenBucket(shape, now);
  if (algorithm === 'sliding-log') return new SlidingLog(shape);
  return new SlidingWindow(shape);
}
