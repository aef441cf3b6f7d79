// The resilience toolkit (`ringmaster/resilience`): policies usable on the
// main thread and inside actors. It imports only ../errors.js and libraries
// (cockatiel, lru-cache, prom-client, zod), so an actor can load it without
// the system, the supervisor or the HTTP server.

export { RingmasterError, InvalidOptionError, CircuitOpenError } from '../errors.js';
export { RetryExhaustedError, ExecutionTimeoutError, BulkheadFullError, RateLimitedError, SagaFailedError, SagaCompensationError } from './errors.js';
export {
  CircuitBreaker,
  DEFAULT_BREAKER_CONSECUTIVE_FAILURES,
  DEFAULT_BREAKER_FAILURE_RATE,
  DEFAULT_BREAKER_WINDOW_CALLS,
  DEFAULT_BREAKER_MINIMUM_CALLS,
  DEFAULT_BREAKER_HALF_OPEN_AFTER_MS,
  DEFAULT_BREAKER_HALF_OPEN_PROBES,
  DEFAULT_BREAKER_SUCCESS_THRESHOLD,
} from './breaker.js';
export {
  Retry,
  DEFAULT_RETRY_MAX_ATTEMPTS,
  DEFAULT_RETRY_BACKOFF,
  DEFAULT_RETRY_INITIAL_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_RETRY_JITTER,
  DEFAULT_RETRY_DEADLINE_MS,
} from './retry.js';
export { Timeout, DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MODE } from './timeout.js';
export { Bulkhead, DEFAULT_BULKHEAD_MAX_CONCURRENT, DEFAULT_BULKHEAD_MAX_QUEUE } from './bulkhead.js';
export {
  RateLimiter,
  DEFAULT_RATE_ALGORITHM,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RATE_INTERVAL_MS,
  DEFAULT_RATE_MAX_KEYS,
  DEFAULT_RATE_MAX_WAIT_MS,
} from './rate-limit.js';
export { Fallback } from './fallback.js';
export { CacheAside, DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL_MS } from './cache.js';
export { Saga, SagaRun } from './saga.js';
export { wrap } from './policy.js';
export { resilienceRegistry, RESILIENCE_METRIC_PREFIX, DURATION_BUCKETS_SECONDS } from './metrics.js';

export type { CircuitRejection } from '../errors.js';
export type { RetryExhaustion, CompensationFailure } from './errors.js';
export type { CircuitBreakerOptions, ResolvedCircuitBreakerOptions, FailureRateOptions, BreakerEvent } from './breaker.js';
export type { ResolvedFailureRate, Trip } from './breaker-tripwire.js';
export type { RetryOptions, ResolvedRetryOptions, RetryContext, RetryEvent } from './retry.js';
export type { BackoffKind, Jitter, ResolvedRetryBackoff } from './backoff.js';
export type { TimeoutOptions, ResolvedTimeoutOptions, TimeoutMode, TimeoutEvent } from './timeout.js';
export type { BulkheadOptions, ResolvedBulkheadOptions, BulkheadEvent } from './bulkhead.js';
export type { RateLimiterOptions, ResolvedRateLimiterOptions, AcquireOptions, RateLimitEvent } from './rate-limit.js';
export type { RateAlgorithm, RateDecision } from './rate-algorithms.js';
export type { FallbackOptions, ResolvedFallbackOptions, FallbackContext, FallbackAlternative, FallbackEvent } from './fallback.js';
export type { CacheOptions, ResolvedCacheOptions, CacheLoader, CacheStats, CacheEvent } from './cache.js';
export type { SagaOptions, ResolvedSagaOptions, SagaStep, SagaStepContext, SagaState, SagaStepStatus, SagaStepReport, SagaReport, SagaEvent } from './saga.js';
export type { Policy, PolicyContext, ExecutablePolicy, WrappedPolicy, MergedContext } from './policy.js';
export type { ResilienceEvent, ResilienceEventType, BreakerState, EventsOf } from './events.js';
