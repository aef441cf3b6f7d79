/**
 * Control messages between the main thread and an actor's host worker, both
 * directions, as one discriminated union each. Low rate: lifecycle, health,
 * configuration and crash reports. Messages themselves go over the rings.
 */
import type { ActorHealth } from '../actor/define.js';
import type { WireError } from '../actor/wire-error.js';
import type { EnvelopeKind } from '../codec/envelope.js';
import type { CrashCause } from '../errors.js';
import type { Subscription, SubscriptionChange } from '../bus/registry.js';
import type { InboxDescriptor, TransportToMain, TransportToWorker } from '../transport/protocol.js';
import type { TracingBoot } from '../trace/tracing.js';
import type { JetStreamConfig } from '../persistence/jetstream-connection.js';

/** The worker's `workerData`: everything one incarnation needs to boot. */
export interface HostBoot {
  system: string;
  id: string;
  /** file: URL of the actor's module. */
  moduleUrl: string;
  config: unknown;
  incarnation: number;
  inbox: InboxDescriptor;
  liveness: SharedArrayBuffer;
  /** The actor's flight recorder (src/liveness/recorder.ts); none when `flightRecorder` is 0. */
  recorder?: SharedArrayBuffer | null;
  logLevel: string;
  logPretty: boolean;
  /** Tracing on in this worker (src/trace/), with the module that registers its SDK; absent or null = off. */
  tracing?: TracingBoot | null;
  maxMessageBytes: number;
  /** How the receiver spins before it parks; `budget` is the process's SpinBudget buffer (null = no limit). */
  spin: { micros: number; adaptive: boolean; budget: SharedArrayBuffer | null };
  sendTimeoutMs: number;
  /** Timeout of a `ctx.ask`, `ctx.request` or `ctx.proxy` call that names none, ms (the system's `askTimeoutMs`). */
  askTimeoutMs: number;
  /** Every topic subscription in the system when this incarnation starts (changes follow as `bus-change`). */
  subscriptions: Subscription[];
  /**
   * Where a persistent actor keeps its journal (an actor without `persistence` never touches it): the
   * SQLite database at `path` (`lock`: the process's write lock for it; the backend when none is named),
   * or with `backend: 'jetstream'` the JetStream stream `jetstream` describes.
   */
  persistence: { backend?: 'sqlite' | 'jetstream'; path: string; synchronous: 'normal' | 'full'; lock: SharedArrayBuffer | null; jetstream?: JetStreamConfig | null };
}

/** `workerData` of a standby worker: it loads the module, then waits for `activate`. */
export interface StandbyBoot {
  standby: true;
  id: string;
  moduleUrl: string;
}

/** A dead letter as reported by a worker. */
export interface DeadLetterReport {
  kind: EnvelopeKind;
  from: string;
  to: string;
  id: number;
  payload: unknown;
  error: WireError;
}

export type MainToHost =
  | TransportToWorker
  | { type: 'activate'; boot: HostBoot }
  | { type: 'stop'; drain: boolean }
  | { type: 'settle-ask'; askId: number; error: WireError }
  | { type: 'configure'; requestId: number; config: unknown }
  | { type: 'log-level'; level: string }
  | { type: 'bus-change'; change: SubscriptionChange }
  | { type: 'health-request'; requestId: number };

export type HostToMain =
  | TransportToMain
  | { type: 'ready' }
  /** The standby loaded the module; `error`: it could not (a ModuleLoadError), and the worker exits. */
  | { type: 'standby-ready'; error?: WireError }
  | { type: 'fatal'; cause: CrashCause; error: WireError }
  | { type: 'stopped'; reason: string }
  | { type: 'dead-letter'; letter: DeadLetterReport }
  | { type: 'subscribe'; pattern: string }
  | { type: 'unsubscribe'; pattern: string }
  /** `ctx.watch(target)`: watch number `seq` of this incarnation (see src/actor/watch.ts). */
  | { type: 'watch'; target: string; seq: number }
  | { type: 'unwatch'; target: string }
  | { type: 'health'; requestId: number; health: ActorHealth | null; error?: WireError }
  | { type: 'configured'; requestId: number; error?: WireError };
