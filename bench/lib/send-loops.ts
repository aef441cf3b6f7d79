import { now, waitUntil } from './clock.js';
import type { SentReport } from './protocol.js';
import { threadCpuMs } from './thread-cpu.js';

/** Sends message `seq`, stamped `ts`, on the transport under test. */
export type SendFn = (seq: number, ts: number) => void;

/**
 * Message i goes out at `t0 + i * intervalMs`, stamped with the time the
 * busy-wait for it ended (the actual send time). Latency is measured from that
 * stamp; receivers can also measure from the schedule, which adds whatever
 * lateness the sender itself had.
 */
export function pacedLoop(t0: number, intervalMs: number, count: number, send: SendFn): SentReport {
  const cpu0 = threadCpuMs();
  // The loop's clock starts at t0 so that time before it does not count as pacing.
  const start = waitUntil(t0);
  let sendMs = 0;
  let maxLateMs = 0;
  for (let i = 0; i < count; i++) {
    const due = t0 + i * intervalMs;
    const t = waitUntil(due);
    if (t - due > maxLateMs) maxLateMs = t - due;
    send(i, t);
    sendMs += now() - t;
  }
  return { type: 'sent', count, loopMs: now() - start, sendMs, maxLateMs, threadCpuMs: threadCpuMs() - cpu0 };
}

/** As fast as `send` returns; `send` itself deals with a full transport. */
export function floodLoop(count: number, send: SendFn): SentReport {
  const cpu0 = threadCpuMs();
  const start = now();
  for (let i = 0; i < count; i++) send(i, now());
  const loopMs = now() - start;
  return { type: 'sent', count, loopMs, sendMs: loopMs, maxLateMs: 0, threadCpuMs: threadCpuMs() - cpu0 };
}
