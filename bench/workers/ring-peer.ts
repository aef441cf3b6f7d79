/**
 * One end of a ringmaster link, in its own worker thread. Roles:
 *   tx   — sends ticks into `outRing` on the main thread's commands
 *   rx   — receives from `inRing`, decoding every envelope, and logs arrivals
 *   ping — sends one tick into `outRing` and waits for its echo on `inRing`
 *   pong — echoes every tick from `inRing` into `outRing`
 * rx and pong sit in a blocking receive loop and take no commands: the end of
 * a phase and the end of the run reach them on the ring as string payloads (a tick is an object).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type Envelope } from '../../src/index.js';
import { Inbox, Outbox, SpinBudget } from '../../src/internal.js';
import { ArrivalLog } from '../lib/arrivals.js';
import { clockOffsetMs, now } from '../lib/clock.js';
import { tick, type Tick } from '../lib/payload.js';
import type { PeerReport, SenderCommand } from '../lib/protocol.js';
import { floodLoop, pacedLoop } from '../lib/send-loops.js';
import { threadId } from '../lib/thread-cpu.js';

export interface RingPeerData {
  role: 'tx' | 'rx' | 'ping' | 'pong';
  inRing?: SharedArrayBuffer;
  inDoorbell?: SharedArrayBuffer;
  outRing?: SharedArrayBuffer;
  outDoorbell?: SharedArrayBuffer;
  /** Receiver's spin budget before it parks, µs; the library default when absent. */
  spinMicros?: number;
  /** The process's spin budget (as an ActorSystem shares one among its actors); none = no limit. */
  spinBudget?: SharedArrayBuffer;
}

const END_PHASE = 'end-phase';
const EXIT = 'exit';
/** A receive loop wakes this often even when nothing arrives (it is parked in between). */
const PARK_TIMEOUT_MS = 1000;

const data = workerData as RingPeerData;
const port = parentPort!;
const report = (m: PeerReport): void => port.postMessage(m);
/** TRANSPORT_TRACING=1: every tick carries a trace context and every received one gets a span (bench/lib/tracing.ts). */
const traced = process.env.TRANSPORT_TRACING === '1' ? (await import('../lib/tracing.js')).benchTracing(data.role) : null;

function makeOutbox(): { send: (payload: unknown, kind?: Envelope['kind']) => void } {
  const out = new Outbox({ to: 'peer', lane: 'normal', slot: 0, ring: data.outRing!, doorbell: data.outDoorbell! });
  const env: Envelope = { kind: 'tell', from: data.role, to: 'peer', id: 0, payload: null };
  return {
    send(payload, kind = 'tell') {
      env.kind = kind;
      env.payload = payload;
      if (traced !== null) env.trace = traced.stamp();
      for (;;) {
        const r = out.trySend(env);
        if (r === 'written') return;
        if (r === 'closed') throw new Error(`${data.role}: ring closed by the receiver`);
        // 'full': the receiver is behind; retry at once (both threads own a core).
      }
    },
  };
}

function makeInbox(): Inbox {
  const inbox = new Inbox(data.inDoorbell!, {
    ...(data.spinMicros === undefined ? {} : { spinMicros: data.spinMicros }),
    spinBudget: data.spinBudget ? new SpinBudget(data.spinBudget) : null,
  });
  inbox.attach(0, data.inRing!);
  return inbox;
}

function runSender(): void {
  const out = makeOutbox();
  const send = (seq: number, ts: number): void => out.send(tick(seq, ts));
  port.on('message', (cmd: SenderCommand) => {
    if (cmd.type === 'exit') {
      out.send(EXIT);
      port.close();
      return;
    }
    if (cmd.type === 'rtt') throw new Error('tx does not ping');
    const r = cmd.type === 'paced' ? pacedLoop(cmd.t0, cmd.intervalMs, cmd.count, send) : floodLoop(cmd.count, send);
    out.send(END_PHASE);
    report(r);
  });
}

function runReceiver(): void {
  const inbox = makeInbox();
  const log = new ArrivalLog();
  let running = true;
  let notifies = inbox.doorbell.notifies;
  let spin = { ...inbox.spinStats };
  const onEnvelope = (env: Envelope): void => {
    if (typeof env.payload === 'string') {
      if (env.payload === EXIT) running = false;
      else {
        const s = inbox.spinStats;
        report({
          ...log.finish(),
          notifies: inbox.doorbell.notifies - notifies,
          spin: {
            hits: s.hits - spin.hits,
            misses: s.misses - spin.misses,
            skipped: s.skipped - spin.skipped,
            noSeat: s.noSeat - spin.noSeat,
            busy: s.busy - spin.busy,
            preempted: s.preempted - spin.preempted,
            contended: s.contended - spin.contended,
          },
        });
        notifies = inbox.doorbell.notifies;
        spin = { ...s };
      }
      return;
    }
    const t = env.payload as Tick;
    log.add(t.seq, t.ts);
  };
  const handle = traced === null ? onEnvelope : traced.handler(onEnvelope);
  while (running) {
    inbox.waitForWork(PARK_TIMEOUT_MS);
    inbox.drain(1024, handle);
  }
  port.close();
}

function runPing(): void {
  const out = makeOutbox();
  const inbox = makeInbox();
  let echoed = -1;
  const onEnvelope = (env: Envelope): void => {
    echoed = (env.payload as Tick).seq;
  };
  const handle = traced === null ? onEnvelope : traced.handler(onEnvelope);
  port.on('message', (cmd: SenderCommand) => {
    if (cmd.type === 'exit') {
      out.send(EXIT);
      port.close();
      return;
    }
    if (cmd.type !== 'rtt') throw new Error('ping only pings');
    const samplesUs = new Float64Array(cmd.count);
    for (let i = 0; i < cmd.warm + cmd.count; i++) {
      const t = now();
      out.send(tick(i, t));
      while (echoed !== i) {
        inbox.waitForWork(PARK_TIMEOUT_MS);
        inbox.drain(16, handle);
      }
      const rtt = now() - t;
      if (i >= cmd.warm) samplesUs[i - cmd.warm] = rtt * 1000;
    }
    report({ type: 'rtt', samplesUs });
  });
}

function runPong(): void {
  const out = makeOutbox();
  const inbox = makeInbox();
  let running = true;
  const onEnvelope = (env: Envelope): void => {
    if (typeof env.payload === 'string') running = env.payload !== EXIT;
    else out.send(env.payload);
  };
  const handle = traced === null ? onEnvelope : traced.handler(onEnvelope);
  while (running) {
    inbox.waitForWork(PARK_TIMEOUT_MS);
    inbox.drain(16, handle);
  }
  port.close();
}

report({ type: 'ready', role: data.role, clockOffsetMs: clockOffsetMs(), tid: threadId() });
function run(): void {
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
}

if (traced === null) run();
else traced.active(run);
