/**
 * Control messages between the main thread and the peer workers
 * (bench/workers/ring-peer.ts and port-peer.ts). They travel on parentPort,
 * never on the transport under test.
 */

/** Main → sending worker. */
export type SenderCommand =
  /** Send `count` messages, message i at `t0 + i * intervalMs` (busy-waiting to it), then an end marker. */
  | { type: 'paced'; t0: number; intervalMs: number; count: number }
  /** Send `count` messages as fast as the transport takes them, then an end marker. */
  | { type: 'flood'; count: number }
  /** Ping-pong: `warm` unrecorded round trips, then `count` recorded ones, one in flight. */
  | { type: 'rtt'; warm: number; count: number }
  /** Tell the receiving side to leave its loop, then stop. */
  | { type: 'exit' };

export interface ReadyReport {
  type: 'ready';
  role: string;
  clockOffsetMs: number;
  /** Kernel thread id, so the main thread can read the worker's CPU time (null off Linux). */
  tid: number | null;
}

export interface SentReport {
  type: 'sent';
  count: number;
  /** Wall time of the whole send loop, ms. */
  loopMs: number;
  /** Of which spent handing messages to the transport (the rest is busy-waiting for the schedule). */
  sendMs: number;
  /** Worst lateness of a send against its schedule, ms. */
  maxLateMs: number;
  /** The sending thread's own CPU time over the loop, ms (NaN if unknown). */
  threadCpuMs: number;
}

export interface ReceivedReport {
  type: 'received';
  count: number;
  /** Messages whose seq was not the one after the previous message's. */
  outOfOrder: number;
  /** Sender's `ts` of the first message and arrival time of the last, clock ms. */
  firstTs: number;
  lastArrival: number;
  /** Per message sender `ts` and arrival time (clock ms); null when the phase was too long to keep them. */
  sent: Float64Array | null;
  arrived: Float64Array | null;
  /** The receiving thread's CPU time from the first message to the end marker, ms. */
  threadCpuMs: number;
  /** Ringmaster receivers: wake-ups (notifies) its doorbell got in the phase, and how its waits went. */
  notifies?: number;
  spin?: { hits: number; misses: number; skipped: number; noSeat: number; busy: number; preempted: number; contended: number };
}

export interface RttReport {
  type: 'rtt';
  samplesUs: Float64Array;
}

export type PeerReport = ReadyReport | SentReport | ReceivedReport | RttReport;

/** Longest phase whose per-message stamps a receiver keeps. */
export const MAX_STAMPED = 50_000;

/** A postMessage receiver acknowledges every this many messages (flow control of the flood). */
export const ACK_EVERY = 4096;
/** A postMessage flood sender keeps at most this many messages unacknowledged. */
export const SEND_WINDOW = 32 * 1024;
