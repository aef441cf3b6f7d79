import { now } from './clock.js';
import { processCpuMs as cpuMs } from './machine.js';
import { round2, summarize, type LatencySummary } from './stats.js';

/** A request/response transport seen from the main thread: the worker echoes the tick back. */
export interface RpcClient {
  call(seq: number): Promise<unknown>;
  close(): Promise<void>;
}

export interface RpcPlan {
  rttWarm: number;
  rttCount: number;
  inFlight: number;
  floodWarmMs: number;
  floodMs: number;
  intervalMs: number;
  pacedWarmMs: number;
  pacedMs: number;
}

export interface RpcMeasurement {
  rtt: LatencySummary;
  /** Completed calls per second with `inFlight` outstanding; each call is a request and a response. */
  throughputPerSec: number;
  /** process.cpuUsage() per call at 1 / intervalMs calls per second. */
  cpuUsPerCall: number;
  inFlight: number;
}

/** Calls completed during `ms`, keeping `inFlight` outstanding (each lane awaits its own call). */
export async function flood(client: RpcClient, inFlight: number, ms: number): Promise<number> {
  let done = 0;
  let seq = 0;
  const start = now();
  const end = start + ms;
  const lane = async (): Promise<void> => {
    while (now() < end) {
      await client.call(seq++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return done / ((now() - start) / 1000);
}

/**
 * Calls at an average 1 / intervalMs per second. The main thread cannot
 * busy-wait (it must run the event loop that completes the calls), so a 1 ms
 * timer issues whatever is due: small bursts, no pacing spin to subtract.
 */
async function paced(client: RpcClient, intervalMs: number, ms: number): Promise<{ calls: number; cpuMs: number }> {
  const total = Math.round(ms / intervalMs);
  const cpu0 = cpuMs();
  const t0 = now();
  let issued = 0;
  let completed = 0;
  await new Promise<void>((resolve, reject) => {
    const issue = (): void => {
      const due = Math.min(total, Math.floor((now() - t0) / intervalMs) + 1);
      for (; issued < due; issued++) {
        client.call(issued).then(
          () => {
            if (++completed === total) resolve();
          },
          (err: unknown) => {
            clearInterval(timer);
            reject(err);
          },
        );
      }
      if (issued >= total) clearInterval(timer);
    };
    const timer = setInterval(issue, 1);
    issue();
  });
  return { calls: total, cpuMs: cpuMs() - cpu0 };
}

export async function benchRpc(client: RpcClient, plan: RpcPlan): Promise<RpcMeasurement> {
  for (let i = 0; i < plan.rttWarm; i++) await client.call(i);
  const samplesUs = new Float64Array(plan.rttCount);
  for (let i = 0; i < plan.rttCount; i++) {
    const t = now();
    await client.call(i);
    samplesUs[i] = (now() - t) * 1000;
  }

  await flood(client, plan.inFlight, plan.floodWarmMs);
  const throughputPerSec = Math.round(await flood(client, plan.inFlight, plan.floodMs));

  await paced(client, plan.intervalMs, plan.pacedWarmMs);
  const p = await paced(client, plan.intervalMs, plan.pacedMs);

  return {
    rtt: summarize(samplesUs),
    throughputPerSec,
    cpuUsPerCall: round2((p.cpuMs * 1000) / p.calls),
    inFlight: plan.inFlight,
  };
}
