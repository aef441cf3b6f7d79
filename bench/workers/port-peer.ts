/**
 * One end of a postMessage link (a MessageChannel port handed over by the main
 * thread), in its own worker thread. Same roles and reports as ring-peer.ts;
 * ticks are posted as plain objects and structured-cloned, as users do.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ArrivalLog } from '../lib/arrivals.js';
import { clockOffsetMs, now } from '../lib/clock.js';
import { tick, type Tick } from '../lib/payload.js';
import { ACK_EVERY, SEND_WINDOW, type PeerReport, type SenderCommand, type SentReport } from '../lib/protocol.js';
import { pacedLoop } from '../lib/send-loops.js';
import { threadCpuMs, threadId } from '../lib/thread-cpu.js';

export interface PortPeerData {
  role: 'tx' | 'rx' | 'ping' | 'pong';
  port: MessagePort;
}

const END_PHASE = 'end-phase';
const EXIT = 'exit';

const data = workerData as PortPeerData;
const link = data.port;
const control = parentPort!;
const report = (m: PeerReport): void => control.postMessage(m);

function runSender(): void {
  // Without flow control a flood would queue the whole run in memory and
  // measure the allocator; the receiver acknowledges every ACK_EVERY messages.
  let acked = 0;
  let onAck: (() => void) | null = null;
  link.on('message', (n: number) => {
    acked = n;
    const wake = onAck;
    onAck = null;
    wake?.();
  });
  const send = (seq: number, ts: number): void => link.postMessage(tick(seq, ts));

  const flood = async (count: number): Promise<SentReport> => {
    const cpu0 = threadCpuMs();
    acked = 0;
    const start = now();
    for (let i = 0; i < count; i++) {
      while (i - acked >= SEND_WINDOW) await new Promise<void>((resolve) => (onAck = resolve));
      send(i, now());
    }
    const loopMs = now() - start;
    return { type: 'sent', count, loopMs, sendMs: loopMs, maxLateMs: 0, threadCpuMs: threadCpuMs() - cpu0 };
  };

  control.on('message', (cmd: SenderCommand) => {
    if (cmd.type === 'exit') {
      link.postMessage(EXIT);
      return;
    }
    if (cmd.type === 'rtt') throw new Error('tx does not ping');
    const done = (r: SentReport): void => {
      link.postMessage(END_PHASE);
      report(r);
    };
    if (cmd.type === 'paced') done(pacedLoop(cmd.t0, cmd.intervalMs, cmd.count, send));
    else void flood(cmd.count).then(done);
  });
}

function runReceiver(): void {
  const log = new ArrivalLog();
  link.on('message', (m: Tick | string) => {
    if (typeof m === 'string') {
      if (m === EXIT) link.close();
      else report(log.finish());
      return;
    }
    log.add(m.seq, m.ts);
    if (log.count % ACK_EVERY === 0) link.postMessage(log.count);
  });
}

function runPing(): void {
  let pending: ((t: Tick) => void) | null = null;
  link.on('message', (m: Tick) => pending?.(m));
  const roundTrip = (seq: number): Promise<number> =>
    new Promise((resolve) => {
      const t = now();
      pending = (m) => {
        if (m.seq === seq) resolve(now() - t);
      };
      link.postMessage(tick(seq, t));
    });
  control.on('message', (cmd: SenderCommand) => {
    if (cmd.type === 'exit') {
      link.postMessage(EXIT);
      return;
    }
    if (cmd.type !== 'rtt') throw new Error('ping only pings');
    void (async () => {
      const samplesUs = new Float64Array(cmd.count);
      for (let i = 0; i < cmd.warm + cmd.count; i++) {
        const rtt = await roundTrip(i);
        if (i >= cmd.warm) samplesUs[i - cmd.warm] = rtt * 1000;
      }
      report({ type: 'rtt', samplesUs });
    })();
  });
}

function runPong(): void {
  link.on('message', (m: Tick | string) => {
    if (m === EXIT) link.close();
    else link.postMessage(m);
  });
}

report({ type: 'ready', role: data.role, clockOffsetMs: clockOffsetMs(), tid: threadId() });
switch (data.role) {
  case 'tx':
    runSender();
    break;
  case 'rx':
    runReceiver();
    break;
  case 'ping':
    runPing();
    break;
  case 'pong':
    runPong();
    break;
}
