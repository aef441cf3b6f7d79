// The public API of ringmaster: every export by name, values first, then types.

export {
  ErrorCodes,
  RingmasterError,
  InvalidOptionError,
  RingFullError,
  RingClosedError,
  RingCorruptError,
  RingTimeoutError,
  MessageTooLargeError,
  EncodeError,
  DecodeError,
  InboxFullError,
  NoSuchActorError,
  NotOnMainThreadError,
  InvalidTreeError,
  AskTimeoutError,
  ActorCrashedError,
  ActorStoppedError,
  ModuleLoadError,
  EscalationError,
  ReloadFailedError,
  MailboxFullError,
  NoRespondersError,
  InvalidSubjectError,
  CircuitOpenError,
  PersistenceError,
  JournalFencedError,
  NodeDownError,
  ClusterJoinError,
  ActorIdTakenError,
} from './errors.js';
export { RetryExhaustedError, ExecutionTimeoutError, BulkheadFullError, RateLimitedError, SagaFailedError, SagaCompensationError } from './resilience/errors.js';
export { defineActor } from './actor/define.js';
export { DEFAULT_ASK_TIMEOUT_MS, DEFAULT_SEND_TIMEOUT_MS, DEFAULT_DEAD_LETTER_LIMIT, DEFAULT_INBOX_SENDER_SLOTS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SPIN_MICROS, MAX_TIMEOUT_MS } from './defaults.js';
export { ActorSystem, SYSTEM_ID } from './system/system.js';
// Adds ActorSystem.fromConfig (config files sit a layer above the system).
export { fromConfig } from './launch/from-config.js';
export { ActorRef } from './actor/ref.js';
export { startHttp, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, HTTP_CLOSE_GRACE_MS } from './http/server.js';
export { createMetricsRegistry, METRIC_PREFIX } from './metrics/registry.js';
export { AlertManager } from './alerts/manager.js';
export { AlertEvaluator } from './alerts/evaluator.js';
export { parseAlertRules, checkAlertRules, parseDuration, ALERT_METRICS, ALERT_OPS, DEFAULT_ALERT_INTERVAL_MS, DEFAULT_WEBHOOK_TIMEOUT_MS, DEFAULT_WEBHOOK_RETRIES } from './alerts/rules.js';
export { toPrometheusRules, PROMETHEUS_METRICS } from './alerts/prometheus.js';
export {
  loadConfig,
  parseConfig,
  ConfigError,
  formatProblem,
  configDefaults,
  toSystemOptions,
  LOG_LEVELS,
  DEFAULT_CONFIG_HTTP_HOST,
  DEFAULT_CONFIG_HTTP_PORT,
  DEFAULT_CONFIG_LOG_LEVEL,
  OVERRIDES,
  describeOrigin,
  ConfigManager,
  configRoutes,
  DEFAULT_VERSION_HISTORY,
  FileWatcher,
  DEFAULT_RELOAD_DEBOUNCE_MS,
  DEFAULT_RELOAD_POLL_MS,
  describeConfig,
  renderConfig,
  REDACTED,
} from './config/index.js';
export {
  DEFAULT_INTENSITY,
  DEFAULT_PERIOD_MS,
  DEFAULT_SHUTDOWN_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HEARTBEAT_MISSES,
  DEFAULT_MAX_REDELIVERIES,
  DEFAULT_CHILD_RING_BYTES,
  DEFAULT_INIT_TIMEOUT_MS,
} from './supervisor/defaults.js';
export {
  CircuitBreaker,
  DEFAULT_BREAKER_CONSECUTIVE_FAILURES,
  DEFAULT_BREAKER_FAILURE_RATE,
  DEFAULT_BREAKER_WINDOW_CALLS,
  DEFAULT_BREAKER_MINIMUM_CALLS,
  DEFAULT_BREAKER_HALF_OPEN_AFTER_MS,
  DEFAULT_BREAKER_HALF_OPEN_PROBES,
  DEFAULT_BREAKER_SUCCESS_THRESHOLD,
  Retry,
  DEFAULT_RETRY_MAX_ATTEMPTS,
  DEFAULT_RETRY_BACKOFF,
  DEFAULT_RETRY_INITIAL_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_RETRY_JITTER,
  DEFAULT_RETRY_DEADLINE_MS,
  Timeout,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MODE,
  Bulkhead,
  DEFAULT_BULKHEAD_MAX_CONCURRENT,
  DEFAULT_BULKHEAD_MAX_QUEUE,
  RateLimiter,
  DEFAULT_RATE_ALGORITHM,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RATE_INTERVAL_MS,
  DEFAULT_RATE_MAX_KEYS,
  DEFAULT_RATE_MAX_WAIT_MS,
  Fallback,
  CacheAside,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_TTL_MS,
  Saga,
  SagaRun,
  wrap,
  resilienceRegistry,
  RESILIENCE_METRIC_PREFIX,
  DURATION_BUCKETS_SECONDS,
} from './resilience/index.js';

export type { ErrorCode, CrashCause, SpecProblem, OverflowPolicy, CircuitRejection, NodeDownReason } from './errors.js';
export type { RetryExhaustion, CompensationFailure } from './resilience/errors.js';
export type { ActorContext, ActorDefinition, ActorHealth, AskOptions, TellOptions, MessagePriority, DefinedActor, TopicContext, PersistenceSpec } from './actor/define.js';
export type { AnyActor, MessageOf, ReplyOf, ConfigOf, ApiOf, TopicMessageOf } from './actor/protocol.js';
export type { SystemOptions, ActorStatus } from './system/system.js';
export type { ShutdownPhase } from './system/shutdown.js';
export type { FromConfigOptions, ConfiguredSystem } from './launch/from-config.js';
export type { SpinStats } from './transport/parking.js';
export type { ResolvedSystemOptions, SpawnSpec, PersistenceOptions } from './system/options.js';
export type { CellState, StandbyState, PoolStats } from './cell/contract.js';
export type { CrashRecord } from './cell/record.js';
export type { ActorBreakerState } from './transport/breaker.js';
export type { Envelope, EnvelopeKind, Priority } from './codec/envelope.js';
export type { TopicHandler } from './system/topics.js';
export type { Subscription } from './bus/registry.js';
export type { Remote } from './actor/rpc.js';
export type { Terminated, TerminatedReason } from './actor/watch.js';
export type { WatchInfo } from './system/watch-table.js';
export type { SystemEvent, SystemEventType, DeadLetter, ConfigEventInput, ConfigEventSource, AlertEventInput, AlertSeverity, RecordedMessage, TruncatedPayload } from './events.js';
export type { AlertManagerOptions, AlertHost, AlertStatus, AlertRuleView, NotifierView } from './alerts/manager.js';
export type { AlertView, AlertTransition, AlertStateName, Readings } from './alerts/evaluator.js';
export type { AlertRule, AlertMetric, AlertOp, RuleCondition, Notifier, RuleProblem, Severity } from './alerts/rules.js';
export type { AlertNotice } from './alerts/notify.js';
export type { PrometheusExport } from './alerts/prometheus.js';
export type { ActorMetrics, ModuleHealth, SystemHealth } from './system/snapshot.js';
export type { TreeChange } from './supervisor/diff.js';
export type { HttpOptions, HttpServer } from './http/server.js';
export type { ConfigRouteHandlers } from './http/routes.js';
export type {
  LoadOptions,
  LoadedConfig,
  ConfigProblem,
  LogLevel,
  RingmasterConfig,
  ConfigFlags,
  Origin,
  ConfigManagerOptions,
  ConfigRoutes,
  ConfigVersion,
  ReloadOutcome,
  VersionSummary,
  ConfigEntry,
} from './config/index.js';
export type { MetricsOptions, MetricsSource, ReloadCounts } from './metrics/registry.js';
export type {
  TreeSpec,
  SupervisorSpec,
  ChildSpec,
  ChildTemplate,
  RestartType,
  Strategy,
  AutoShutdown,
  Shutdown,
  RestartBackoffOptions,
  ResolvedRestartBackoff,
  ResourceLimits,
  ResolvedSupervisorSpec,
  ResolvedChildSpec,
  ResolvedNode,
} from './supervisor/spec.js';
export type {
  CircuitBreakerOptions,
  ResolvedCircuitBreakerOptions,
  FailureRateOptions,
  ResolvedFailureRate,
  Trip,
  BreakerEvent,
  BreakerState,
  RetryOptions,
  ResolvedRetryOptions,
  RetryContext,
  RetryEvent,
  BackoffKind,
  Jitter,
  ResolvedRetryBackoff,
  TimeoutOptions,
  ResolvedTimeoutOptions,
  TimeoutMode,
  TimeoutEvent,
  BulkheadOptions,
  ResolvedBulkheadOptions,
  BulkheadEvent,
  RateLimiterOptions,
  ResolvedRateLimiterOptions,
  AcquireOptions,
  RateAlgorithm,
  RateDecision,
  RateLimitEvent,
  FallbackOptions,
  ResolvedFallbackOptions,
  FallbackContext,
  FallbackAlternative,
  FallbackEvent,
  CacheOptions,
  ResolvedCacheOptions,
  CacheLoader,
  CacheStats,
  CacheEvent,
  SagaOptions,
  ResolvedSagaOptions,
  SagaStep,
  SagaStepContext,
  SagaState,
  SagaStepStatus,
  SagaStepReport,
  SagaReport,
  SagaEvent,
  Policy,
  PolicyContext,
  ExecutablePolicy,
  WrappedPolicy,
  MergedContext,
  ResilienceEvent,
  ResilienceEventType,
  EventsOf,
} from './resilience/index.js';
