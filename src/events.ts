/**
 * The system's event vocabulary: what cells, supervisors and the system report,
 * as one typed union on `type`. A ground module (types only) so that every
 * layer that reports events can name them without importing the system.
 */
import type { CrashCause, NodeDownReason, OverflowPolicy } from './errors.js';

/** A message nobody could take, kept for inspection. */
export interface DeadLetter {
  kind: string;
  from: string;
  to: string;
  id: number;
  payload: unknown;
  reason: string;
  /** Set when a mailbox's overflow policy dropped the message. */
  dropped?: OverflowPolicy;
  at: number;
}

/** Everything the system reports, as one typed union on `type`. */
export type SystemEvent =
  | { type: 'started'; actor: string; incarnation: number; at: number }
  | { type: 'restarted'; actor: string; incarnation: number; at: number }
  | { type: 'crashed'; actor: string; incarnation: number; cause: CrashCause; reason: string; code?: string; stack?: string; at: number; recent?: RecordedMessage[] }
  | { type: 'restarting'; actor: string; delayMs: number; strategy: string; at: number }
  | { type: 'stopped'; actor: string; incarnation: number; reason: string; at: number }
  | { type: 'escalated'; supervisor: string; reason: string; at: number }
  | { type: 'auto-shutdown'; supervisor: string; reason: string; at: number }
  | { type: 'dead-letter'; letter: DeadLetter; at: number }
  | { type: 'system-stopped'; reason: string; at: number }
  | { type: 'config-applied'; version: number; source: ConfigEventSource; changes: Array<{ kind: string; id: string }>; restored?: number; at: number }
  | { type: 'config-rejected'; source: ConfigEventSource; problems: string[]; at: number }
  | { type: 'node-up'; node: string; at: number }
  | { type: 'node-down'; node: string; reason: NodeDownReason; at: number }
  | { type: 'alert-firing'; alert: string; severity: AlertSeverity; actor?: string; value: number | null; since: number; repeat?: boolean; at: number }
  | { type: 'alert-resolved'; alert: string; severity: AlertSeverity; actor?: string; value: number | null; since: number; at: number };

/** How bad an alert is: `log` notifies at info/warn for info and warning, at error for critical. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

/** What led to a configuration change: the file (a change on disk, or a reload asked for), or a rollback to a kept version. */
export type ConfigEventSource = 'file' | 'rollback';

export type SystemEventType = SystemEvent['type'];
export type EventOf<T extends SystemEventType> = Extract<SystemEvent, { type: T }>;
/** An event before the hub stamps its time. */
export type EventInput = SystemEvent extends infer E ? (E extends SystemEvent ? Omit<E, 'at'> : never) : never;
/** A configuration outcome as the config layer reports it to the system. */
export type ConfigEventInput = Extract<EventInput, { type: 'config-applied' | 'config-rejected' }>;
/** An alert's transition as the alert manager (src/alerts) reports it to the system; `since`: when its condition began to hold. */
export type AlertEventInput = Extract<EventInput, { type: 'alert-firing' | 'alert-resolved' }>;

/** One message an actor handled, as its flight recorder kept it (src/liveness/recorder.ts): metadata, and its payload when `flightRecorder.payloadBytes` is set. */
export interface RecordedMessage {
  kind: 'tell' | 'ask' | 'reply' | 'error' | 'call' | 'terminated' | 'other';
  priority: 'normal' | 'high' | 'system';
  /** Who sent it (null when the recorder's table of names was full). */
  from: string | null;
  /** The topic it was published on, when it was (null: not kept). */
  topic?: string | null;
  /** The frame's size, bytes. */
  bytes: number;
  incarnation: number;
  /** When its handler started, epoch ms. */
  at: number;
  /** How long its handler took, ms; null while it runs, or when the incarnation died in it. */
  handlerMs: number | null;
  /**
   * Only with `flightRecorder.payloadBytes` over 0: the payload, decoded, when
   * its encoding fit; otherwise what was kept of it (`bytes`: base64 of its
   * first `payloadBytes` bytes of msgpack, `size`: its whole encoding's size).
   */
  payload?: unknown;
}

/** What the flight recorder keeps of a payload longer than its `payloadBytes`. */
export interface TruncatedPayload {
  truncated: true;
  /** The first bytes of the payload's msgpack encoding, base64. */
  bytes: string;
  /** The whole encoding's size, bytes. */
  size: number;
}
