// The resilience toolkit's errors: coded like every RingmasterError (their codes are in ErrorCodes, src/errors.ts).
import { RingmasterError } from '../errors.js';

/** Why a retry policy gave up. */
export type RetryExhaustion = 'attempts' | 'deadline';

export class RetryExhaustedError extends RingmasterError {
  readonly policy: string;
  readonly attempts: number;
  readonly reason: RetryExhaustion;
  constructor(policy: string, attempts: number, reason: RetryExhaustion, options?: ErrorOptions) {
    const why = reason === 'attempts' ? `all ${attempts} attempts failed` : `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: the deadline would pass`;
    const last = options?.cause instanceof Error ? `; last error: ${options.cause.message}` : '';
    super('ERR_RETRY_EXHAUSTED', `retry '${policy}': ${why}${last}`, options);
    this.name = 'RetryExhaustedError';
    this.policy = policy;
    this.attempts = attempts;
    this.reason = reason;
  }
}

export class ExecutionTimeoutError extends RingmasterError {
  readonly policy: string;
  readonly timeoutMs: number;
  constructor(policy: string, timeoutMs: number, options?: ErrorOptions) {
    super('ERR_EXECUTION_TIMEOUT', `timeout '${policy}': the call ran past ${timeoutMs} ms`, options);
    this.name = 'ExecutionTimeoutError';
    this.policy = policy;
    this.timeoutMs = timeoutMs;
  }
}

export class BulkheadFullError extends RingmasterError {
  readonly bulkhead: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  constructor(bulkhead: string, maxConcurrent: number, maxQueue: number) {
    super('ERR_BULKHEAD_FULL', `bulkhead '${bulkhead}' is full: ${maxConcurrent} calls running and ${maxQueue} queued`);
    this.name = 'BulkheadFullError';
    this.bulkhead = bulkhead;
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

export class RateLimitedError extends RingmasterError {
  readonly limiter: string;
  readonly key: string;
  /** How long until the permits asked for could be granted, ms. */
  readonly retryAfterMs: number;
  constructor(limiter: string, key: string, retryAfterMs: number) {
    super('ERR_RATE_LIMITED', `rate limiter '${limiter}' refused key '${key}': retry after ${retryAfterMs} ms`);
    this.name = 'RateLimitedError';
    this.limiter = limiter;
    this.key = key;
    this.retryAfterMs = retryAfterMs;
  }
}

export class SagaFailedError extends RingmasterError {
  readonly saga: string;
  /** The step whose action failed. */
  readonly step: string;
  constructor(saga: string, step: string, options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('ERR_SAGA_FAILED', `saga '${saga}': step '${step}' failed${detail}; completed steps were compensated`, options);
    this.name = 'SagaFailedError';
    this.saga = saga;
    this.step = step;
  }
}

/** A compensation that threw, by step. */
export interface CompensationFailure {
  step: string;
  error: unknown;
}

export class SagaCompensationError extends RingmasterError {
  readonly saga: string;
  readonly step: string;
  readonly failures: readonly CompensationFailure[];
  constructor(saga: string, step: string, failures: readonly CompensationFailure[], options?: ErrorOptions) {
    const which = failures.map((f) => `'${f.step}'`).join(', ');
    super('ERR_SAGA_COMPENSATION_FAILED', `saga '${saga}': step '${step}' failed and the compensation of ${which} failed too; their effects may remain`, options);
    this.name = 'SagaCompensationError';
    this.saga = saga;
    this.step = step;
    this.failures = failures;
  }
}
