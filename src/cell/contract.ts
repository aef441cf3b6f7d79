import type { ActorHealth } from '../actor/define.js';
import type { WireError } from '../actor/wire-error.js';
import type { Subscription } from '../bus/registry.js';
import type { Codec, Envelope } from '../codec/envelope.js';
import type { TracingBoot } from '../trace/tracing.js';
import type { DeadLetter, EventInput } from '../events.js';
import type { Watchdog } from '../health/watchdog.js';
import type { RecorderSetting } from '../liveness/recorder.js';
import type { HostBoot, HostToMain, MainToHost } from '../host/protocol.js';
import type { SupervisedChild } from '../supervisor/child.js';
import type { ResolvedChildSpec } from '../supervisor/spec.js';
import type { Wiring } from '../transport/wiring.js';
import type { CellRecord } from './record.js';

/** Where one child actor stands, as the main thread sees it. */
export type CellState = 'idle' | 'starting' | 'running' | 'backing-off' | 'stopping' | 'stopped' | 'crashed';

/** The spare worker of a `standby: true` child: none, still loading the host and module, or ready. */
export type StandbyState = 'none' | 'booting' | 'ready';

/** A pool actor's figures for status, health and metrics. */
export interface PoolStats {
  threads: number;
  queueSize: number;
  /** Tasks running now. */
  running: number;
  /** Share of the pool's capacity used since it started (piscina's utilization), 0..1. */
  utilization: number;
  completed: number;
  /** Tasks whose handler threw (answered with the error; not a crash). */
  failed: number;
}

/**
 * One child actor as the system and its supervisor see it, whatever runs it
 * (one worker thread, or a piscina pool). The record (spec, inbox, liveness,
 * counters) outlives every incarnation; the cell runs incarnations over it.
 */
export interface ChildCell extends SupervisedChild {
  readonly record: CellRecord;
  /** Ask the running incarnation for its `health` hook's answer (null when it has none or is not running). */
  health(timeoutMs: number): Promise<ActorHealth | null>;
  /** Hand the running incarnation a new config; resolves once it took it. */
  configure(config: unknown, timeoutMs: number): Promise<void>;
  /** Change the running incarnation's log level (and every later one's). */
  setLogLevel(level: string | undefined): void;
  /** Take a changed spec (hot reload); it applies from the next incarnation. */
  replaceSpec(spec: ResolvedChildSpec, moduleUrl: string): void;
  /** Post a control message to the current incarnation's thread; false when none runs there. */
  post(message: MainToHost): boolean;
  /** Share of the last interval the incarnation was busy (0..1). */
  utilization(): number;
  standbyState(): StandbyState;
  /** Pool actors only. */
  poolStats(): PoolStats | undefined;
  /** Resolves once every thread the cell started is gone (spares included): a stopped system leaves none behind. */
  quiesce(): Promise<void>;
}

/** Makes the cell for a child spec; the system is handed one, so a new kind of runner needs no change there. */
export type CellFactory = (spec: ResolvedChildSpec, parent: string, moduleUrl: string, svc: CellServices) => ChildCell;

/** What the system lends each actor cell. */
export interface CellServices {
  systemName: string;
  wiring: Wiring;
  hostUrl: URL;
  /** piscina's worker entry for pool actors. */
  poolWorkerUrl: URL;
  /** Send a reply or error from the main thread on an actor's behalf (pool actors answer this way). */
  replyFromMain(env: Envelope): void;
  codec: Codec;
  /** Relative `module` paths resolve from here (for messages that name a module). */
  baseDir: string;
  watchdog: Watchdog;
  logLevel: string;
  logPretty: boolean;
  /** Tracing in each worker (null = off). */
  tracing: TracingBoot | null;
  maxMessageBytes: number;
  /** How the actors' receivers spin, and the process's spin budget they share. */
  spin: HostBoot['spin'];
  sendTimeoutMs: number;
  askTimeoutMs: number;
  senderSlots: number;
  /** Each actor's flight recorder: its entries (0: none), or entries and the payload bytes each keeps. */
  flightRecorder: RecorderSetting;
  /** Where persistent actors keep their journals. */
  persistence: HostBoot['persistence'];
  emit(e: EventInput): void;
  deadLetter(letter: Omit<DeadLetter, 'at'>, error?: WireError | Error): void;
  /** Settle ask `askId` of `asker` (an actor id or the system) with `err`. */
  settleAsk(asker: string, askId: number, err: Error): void;
  /** Every topic subscription now, for a starting incarnation's copy. */
  subscriptions(): Subscription[];
  subscribe(actor: string, pattern: string): void;
  unsubscribe(actor: string, pattern: string): void;
  /** Actor `actor`'s `ctx.watch` or `ctx.unwatch` (src/system/watches.ts). */
  watch(actor: string, m: Extract<HostToMain, { type: 'watch' | 'unwatch' }>): void;
  /** The actor will not come back: dead-letter its unread mail and settle the asks in it. */
  retireInbox(actor: string, err: Error): void;
}
