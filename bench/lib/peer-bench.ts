import { setTimeout as sleep } from 'node:timers/promises';
import { now } from './clock.js';
import { processCpuMs as cpuMs } from './machine.js';
import type { Peer } from './peer.js';
import type { ReceivedReport, SenderCommand, SentReport } from './protocol.js';
import { round2, summarize, type LatencySummary } from './stats.js';
import { threadCpuMsOf } from './thread-cpu.js';

/** How to start the two ends of a one-way link and of a ping-pong link of one transport. */
export interface PeerLinks {
  oneWay(): Promise<{ tx: Peer; rx: Peer }>;
  roundTrip(): Promise<{ ping: Peer; pong: Peer }>;
}

export interface PeerPlan {
  intervalMs: number;
  pacedWarm: number;
  pacedCount: number;
  sparseIntervalMs: number;
  sparseCount: number;
  floodWarm: number;
  floodCount: number;
  rttWarm: number;
  rttCount: number;
  /** Quiet time after start-up before the idle window (start-up leaves GC and compiler work behind). */
  settleMs: number;
  idleMs: number;
}

export interface PeerMeasurement {
  oneWay: LatencySummary;
  /** One-way latency counted from each message's scheduled time (includes the sender's own lateness). */
  oneWayFromSchedule: LatencySummary;
  sparseOneWay: LatencySummary;
  rtt: LatencySummary;
  throughputPerSec: number;
  cpu: {
    /** process.cpuUsage() over the paced run, every thread. */
    processUsPerMsg: number;
    /** The same less the sender's busy-wait between messages (pacing, not transport). */
    exclPacingUsPerMsg: number;
    senderThreadUsPerMsg: number;
    receiverThreadUsPerMsg: number;
    senderPacingUsPerMsg: number;
  };
  /** Ringmaster only: doorbell wake-ups (one per park at most) and how the receiver's paced waits went. */
  wakes?: {
    pacedNotifiesPerMsg: number;
    floodNotifies: number;
    floodNotifiesPerMsg: number;
    pacedSpin: ReceivedReport['spin'];
  };
  idleCpuMsPerSec: number;
  /** The receiving thread alone over the idle window, ms per second (10 ms resolution). */
  idleReceiverThreadCpuMsPerSec: number;
  senderMaxLateUs: number;
  /** Largest disagreement between threads on the clock, µs (see clock.ts). */
  clockSkewUs: number;
}

type Paced = Extract<SenderCommand, { type: 'paced' }>;

async function phase(tx: Peer, rx: Peer, cmd: SenderCommand): Promise<{ sent: SentReport; got: ReceivedReport }> {
  const both = Promise.all([tx.next('sent'), rx.next('received')]);
  tx.send(cmd);
  const [sent, got] = await both;
  const r = { sent, got };
  if (r.got.count !== r.sent.count || r.got.outOfOrder !== 0) {
    throw new Error(`${rx.name}: ${r.got.count}/${r.sent.count} messages arrived, ${r.got.outOfOrder} out of order`);
  }
  return r;
}

/** Latencies in µs of every message of a phase, from its send stamp or from its schedule. */
function latenciesUs(got: ReceivedReport, schedule?: { t0: number; intervalMs: number }): Float64Array {
  const { sent, arrived } = got;
  if (!sent || !arrived) throw new Error('phase too long to keep per-message stamps');
  const out = new Float64Array(arrived.length);
  for (let i = 0; i < out.length; i++) {
    const from = schedule ? schedule.t0 + i * schedule.intervalMs : sent[i]!;
    out[i] = (arrived[i]! - from) * 1000;
  }
  return out;
}

export async function benchPeers(links: PeerLinks, plan: PeerPlan): Promise<PeerMeasurement> {
  const { tx, rx } = await links.oneWay();
  const [a, b] = await Promise.all([tx.next('ready'), rx.next('ready')]);
  let clockSkewUs = Math.abs(a.clockOffsetMs - b.clockOffsetMs) * 1000;

  // Both ends started and now idle: the receiver sits in its wait (parked, for the ring).
  await sleep(plan.settleMs);
  const idle0 = cpuMs();
  const rxIdle0 = threadCpuMsOf(b.tid);
  const idleT0 = now();
  await sleep(plan.idleMs);
  const idleSec = (now() - idleT0) / 1000;
  const idleCpuMsPerSec = (cpuMs() - idle0) / idleSec;
  const idleReceiverThreadCpuMsPerSec = (threadCpuMsOf(b.tid) - rxIdle0) / idleSec;

  // t0 a little ahead, so the command reaches the sender before its first message is due.
  const paced = (count: number, intervalMs: number): Paced => ({ type: 'paced', t0: now() + 20, intervalMs, count });
  await phase(tx, rx, paced(plan.pacedWarm, plan.intervalMs));

  const cmd = paced(plan.pacedCount, plan.intervalMs);
  const cpu0 = cpuMs();
  const { sent, got } = await phase(tx, rx, cmd);
  const processCpuMs = cpuMs() - cpu0;
  const n = plan.pacedCount;
  const pacingMs = sent.loopMs - sent.sendMs;

  const sparse = await phase(tx, rx, paced(plan.sparseCount, plan.sparseIntervalMs));

  await phase(tx, rx, { type: 'flood', count: plan.floodWarm });
  const flood = await phase(tx, rx, { type: 'flood', count: plan.floodCount });
  const throughputPerSec = Math.round(plan.floodCount / ((flood.got.lastArrival - flood.got.firstTs) / 1000));

  tx.send({ type: 'exit' });
  await sleep(50);
  await Promise.all([tx.stop(), rx.stop()]);

  const { ping, pong } = await links.roundTrip();
  const [c, d] = await Promise.all([ping.next('ready'), pong.next('ready')]);
  clockSkewUs = Math.max(clockSkewUs, Math.abs(c.clockOffsetMs - d.clockOffsetMs) * 1000);
  const rttReport = ping.next('rtt');
  ping.send({ type: 'rtt', warm: plan.rttWarm, count: plan.rttCount });
  const rtt = summarize((await rttReport).samplesUs);
  ping.send({ type: 'exit' });
  await sleep(50);
  await Promise.all([ping.stop(), pong.stop()]);

  const perMsg = (ms: number): number => round2((ms * 1000) / n);
  return {
    oneWay: summarize(latenciesUs(got)),
    oneWayFromSchedule: summarize(latenciesUs(got, cmd)),
    sparseOneWay: summarize(latenciesUs(sparse.got)),
    rtt,
    throughputPerSec,
    cpu: {
      processUsPerMsg: perMsg(processCpuMs),
      exclPacingUsPerMsg: perMsg(processCpuMs - pacingMs),
      senderThreadUsPerMsg: perMsg(sent.threadCpuMs),
      receiverThreadUsPerMsg: perMsg(got.threadCpuMs),
      senderPacingUsPerMsg: perMsg(pacingMs),
    },
    ...(got.notifies === undefined
      ? {}
      : {
          wakes: {
            pacedNotifiesPerMsg: round2(got.notifies / n),
            floodNotifies: flood.got.notifies ?? 0,
            floodNotifiesPerMsg: round2((flood.got.notifies ?? 0) / plan.floodCount),
            pacedSpin: got.spin,
          },
        }),
    idleCpuMsPerSec: round2(idleCpuMsPerSec),
    idleReceiverThreadCpuMsPerSec: round2(idleReceiverThreadCpuMsPerSec),
    senderMaxLateUs: round2(sent.maxLateMs * 1000),
    clockSkewUs: round2(clockSkewUs),
  };
}
