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
} from './errors.js';
export { defineActor } from './actor/define.js';
export { DEFAULT_ASK_TIMEOUT_MS } from './actor/asks.js';
export { DEFAULT_SEND_TIMEOUT_MS } from './actor/sender.js';
export { ActorSystem, SYSTEM_ID, DEFAULT_DEAD_LETTER_LIMIT, DEFAULT_INBOX_SENDER_SLOTS } from './system/system.js';
export { ActorRef } from './system/ref.js';
export { startHttp, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, HTTP_CLOSE_GRACE_MS } from './http/server.js';
export { createMetricsRegistry, METRIC_PREFIX } from './metrics/registry.js';
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
} from './supervisor/spec.js';
export {
  createRing,
  createDoorbell,
  RingReader,
  RingWriter,
  Doorbell,
  RESERVE_CLOSED,
  RESERVE_FULL,
  DEFAULT_RING_CAPACITY_BYTES,
  DEFAULT_SENDER_SLOTS,
  MAX_SENDER_SLOTS,
  frameBytes,
  maxPayloadBytes,
} from './ring/index.js';
export { Codec, DEFAULT_MAX_MESSAGE_BYTES } from './codec/index.js';
export { Inbox, Outbox, Endpoint, Switchboard, Wiring, DEFAULT_FAIR_BATCH, DEFAULT_SPIN_MICROS } from './transport/index.js';

export type { ErrorCode, CrashCause, SpecProblem } from './errors.js';
export type { ActorContext, ActorDefinition, ActorHealth, AskOptions, DefinedActor } from './actor/define.js';
export type { SystemOptions, ActorStatus } from './system/system.js';
export type { SystemEvent, SystemEventType, DeadLetter, ConfigEventInput, ConfigEventSource } from './system/events.js';
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
  BackoffOptions,
  ResourceLimits,
  ResolvedSupervisorSpec,
  ResolvedChildSpec,
  ResolvedNode,
} from './supervisor/spec.js';
export type { ParkResult, SpaceResult, WriteResult } from './ring/index.js';
export type { CodecOptions, Envelope, EnvelopeKind, Priority } from './codec/index.js';
export type {
  ControlPort,
  EnvelopeHandler,
  FrameHandler,
  InboxDescriptor,
  InboxOptions,
  Lane,
  RegisterOptions,
  RingGrant,
  TransportToMain,
  TransportToWorker,
} from './transport/index.js';
