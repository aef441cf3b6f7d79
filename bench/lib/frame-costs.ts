/**
 * Where one message's time goes on the data plane, step by step, on one
 * thread: encoding, the copy into the ring, the atomics around it (doorbell,
 * mailbox gate, liveness counters), decoding, and dispatch by the inbox and
 * by a Host running on this same thread. Each step is timed over batches of
 * frames and reported as ns per message in the fastest batch; the
 * steps that include others (sender.send, inbox.drain, the host loop) are
 * there to show what the parts add up to, and what is left for the glue.
 */
import { MessageChannel } from 'node:worker_threads';
import { Sender } from '../../src/actor/sender.js';
import type { Envelope } from '../../src/codec/envelope.js';
import { Host } from '../../src/host/host.js';
import type { HostBoot } from '../../src/host/protocol.js';
import { createLiveness, Liveness, MSGS_SENT } from '../../src/liveness/liveness.js';
import { MailboxGate } from '../../src/transport/mailbox.js';
import { RecordDecoder, RecordEncoder } from '../../src/codec/records.js';
import { Codec, createDoorbell, createRing, Doorbell, Inbox, Outbox, RingReader, RingWriter, writeEncoded, writeEnvelope } from '../../src/internal.js';
import type { ControlPort } from '../../src/internal.js';
import type { FrameSinkHook } from '../actors/frame-sink.js';
import { tick } from './payload.js';
import { round2 } from './stats.js';

export interface StepCost {
  step: string;
  /** ns per message in the fastest batch: other load on the machine only ever adds time. */
  ns: number;
  /** Bytes of one frame, where the step writes or reads frames. */
  frameBytes?: number;
}

export interface FrameCostPlan {
  /** Messages per timed batch (they must fit one ring). */
  batch: number;
  /** Timed batches per step, after one untimed. */
  batches: number;
}

export const FRAME_COST_PLAN: FrameCostPlan = { batch: 4096, batches: 31 };

const RING_BYTES = 4 * 1024 * 1024;
const SINK = new URL('../actors/frame-sink.js', import.meta.url).href;
/** A typical small message, beside the ~100-byte tick every transport benchmark carries. */
const small = (seq: number): { type: string; seq: number; px: number } => ({ type: 'tick', seq, px: 101.5 });

/** `setup` (untimed), then `run(k)` for k = 0..batch-1 (timed), then `after` (untimed), per batch. */
function timed(plan: FrameCostPlan, run: (k: number) => void, setup?: () => void, after?: () => void): number {
  const per: number[] = [];
  for (let b = 0; b <= plan.batches; b++) {
    setup?.();
    const t0 = performance.now();
    for (let k = 0; k < plan.batch; k++) run(k);
    const ns = ((performance.now() - t0) * 1e6) / plan.batch;
    after?.();
    if (b > 0) per.push(ns);
  }
  return round2(Math.min(...per));
}

const envelope = (payload: unknown): Envelope => ({ kind: 'tell', from: 'strategy', to: 'risk', id: 0, payload });

function payloads(n: number, make: (seq: number) => unknown): unknown[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

/** A ring with its reader, drained between batches. */
class Rig {
  readonly ring = createRing(RING_BYTES);
  readonly doorbell = createDoorbell(1);
  readonly writer = new RingWriter(this.ring);
  readonly reader = new RingReader(this.ring);

  drain(): void {
    while (this.reader.next());
    this.reader.commit();
  }
}

/**
 * Codec steps: encode and decode of the tick and of a small object, as maps
 * (a self-contained frame: what a publish writes to every subscriber) and as
 * records of the ring's structures (what a send writes).
 */
function codecSteps(plan: FrameCostPlan, out: StepCost[]): void {
  for (const [name, make] of [['tick', (s: number) => tick(s, 1234.5)], ['small', small]] as const) {
    for (const records of [false, true]) {
      const codec = new Codec();
      const ps = payloads(plan.batch, make);
      const env = envelope(null);
      // Frames to decode, written once; decoded from the ring's shared memory, as an inbox does.
      const rig = new Rig();
      const enc = records ? new RecordEncoder(rig.writer) : null;
      const dec = records ? new RecordDecoder(rig.reader, { copyBuffers: true, mapsAsObjects: true }) : null;
      const size = codec.encode(envelope(ps[0]), enc);
      const how = records ? 'records' : 'maps';
      out.push({ step: `encode (${name}, ${how})`, frameBytes: size, ns: timed(plan, (k) => { env.payload = ps[k]; codec.encode(env, enc); }) });
      const offsets = new Int32Array(plan.batch);
      const lengths = new Int32Array(plan.batch);
      for (let k = 0; k < plan.batch; k++) {
        env.payload = ps[k];
        writeEnvelope(rig.writer, codec, env, enc);
        rig.reader.next();
        offsets[k] = rig.reader.offset;
        lengths[k] = rig.reader.length;
      }
      out.push({ step: `decode (${name}, ${how})`, frameBytes: size, ns: timed(plan, (k) => void codec.decode(rig.reader.bytes, offsets[k]!, lengths[k]!, 'risk', dec)) });
    }
  }
}

/** Ring steps: the copy of an encoded frame into the ring, reading it out, and the atomics around them. */
function ringSteps(plan: FrameCostPlan, out: StepCost[]): void {
  const codec = new Codec();
  const size = codec.encode(envelope(tick(1, 1234.5)));
  const rig = new Rig();
  const w = rig.writer;
  out.push({
    step: 'ring write: reserve + copy + commit',
    frameBytes: size,
    ns: timed(plan, () => void writeEncoded(w, codec, 'risk'), undefined, () => rig.drain()),
  });
  const r = rig.reader;
  out.push({
    step: 'ring read: next + commit',
    frameBytes: size,
    ns: timed(plan, () => {
      r.next();
      r.commit();
    }, () => {
      for (let k = 0; k < plan.batch; k++) w.tryWrite(codec.encoded.subarray(codec.encodedStart, codec.encodedEnd));
    }),
  });
  const bell = new Doorbell(rig.doorbell);
  out.push({ step: 'doorbell.ring (bit set, receiver awake)', ns: timed(plan, () => bell.ring(0)) });
  const gate = new MailboxGate(createDoorbell(1));
  out.push({ step: 'mailbox gate admit + release (unbounded)', ns: timed(plan, () => { gate.admit(); gate.release(); }) });
  const bounded = new MailboxGate(createDoorbell(1));
  bounded.configure({ capacity: 1_000_000, overflow: 'backpressure', waitMs: 0 });
  out.push({ step: 'mailbox gate admit + release (bounded)', ns: timed(plan, () => { bounded.admit(); bounded.release(); }) });
  const live = new Liveness(createLiveness());
  out.push({ step: 'liveness counter: Atomics.add', ns: timed(plan, () => void Atomics.add(live.i32, MSGS_SENT, 1)) });
  out.push({ step: 'liveness counter: plain store', ns: timed(plan, () => void live.i32[MSGS_SENT]!++) });
}

/** The send and receive paths whole: Sender into a ring, Inbox out of it. */
function pathSteps(plan: FrameCostPlan, out: StepCost[]): void {
  const codec = new Codec();
  const ps = payloads(plan.batch, (s) => tick(s, 1234.5));
  const ring = createRing(RING_BYTES);
  const doorbell = createDoorbell(1);
  const outbox = new Outbox({ to: 'risk', lane: 'normal', slot: 0, ring, doorbell }, codec);
  const sender = new Sender({ outboxIfReady: () => outbox, outbox: () => Promise.resolve(outbox) }, codec, (_e, err) => {
    throw err;
  });
  const inbox = new Inbox(doorbell, { id: 'risk', codec });
  inbox.attach(0, ring);
  const fill = (): void => {
    for (let k = 0; k < plan.batch; k++) sender.send(envelope(ps[k]));
  };
  let got = 0;
  const onEnv = (): void => void got++;
  const empty = (): void => void inbox.drain(Infinity, onEnv);
  out.push({ step: 'sender.send (tick): encode + gate + copy + doorbell', ns: timed(plan, (k) => sender.send(envelope(ps[k])), undefined, empty) });
  out.push({ step: 'inbox.drain (tick), per frame: read + decode + dispatch', ns: timed(plan, () => void inbox.drain(1, onEnv), fill) });
  out.push({
    step: 'inbox.nextMail + releaseMail (tick)',
    ns: timed(plan, () => {
      inbox.nextMail();
      inbox.releaseMail();
    }, fill),
  });
}

/** A Host on this thread reading its inbox: the receiving side whole (decode, dispatch, liveness, release). */
async function hostStep(plan: FrameCostPlan, out: StepCost[]): Promise<void> {
  const ring = createRing(RING_BYTES);
  const doorbell = createDoorbell(1);
  const liveness = createLiveness();
  const control = new MessageChannel();
  const port: ControlPort = {
    postMessage: () => {},
    on: (_e, l) => control.port1.on('message', l),
    off: (_e, l) => control.port1.off('message', l),
  };
  const boot: HostBoot = {
    system: 'frame-costs',
    id: 'risk',
    moduleUrl: SINK,
    config: null,
    incarnation: 1,
    inbox: { id: 'risk', doorbell, rings: [{ slot: 0, ring, lane: 'normal' }] },
    liveness,
    logLevel: 'silent',
    logPretty: false,
    maxMessageBytes: 1024 * 1024,
    spin: { micros: 0, adaptive: true, budget: null },
    sendTimeoutMs: 1000,
    askTimeoutMs: 1000,
    subscriptions: [],
    persistence: { path: ':memory:', synchronous: 'normal', lock: null },
  };
  const running = new Host(boot, port).run();
  const codec = new Codec();
  const outbox = new Outbox({ to: 'risk', lane: 'normal', slot: 0, ring, doorbell }, codec);
  const sender = new Sender({ outboxIfReady: () => outbox, outbox: () => Promise.resolve(outbox) }, codec, (_e, err) => {
    throw err;
  });
  const ps = payloads(plan.batch, (s) => tick(s, 1234.5));
  const hook = globalThis as FrameSinkHook;
  const per: number[] = [];
  for (let b = 0; b <= plan.batches; b++) {
    for (let k = 0; k < plan.batch; k++) sender.send(envelope(ps[k]));
    sender.send(envelope('done'));
    const t0 = performance.now();
    const n = await new Promise<number>((resolve) => (hook.frameSinkDone = resolve));
    if (n !== plan.batch) throw new Error(`frame sink counted ${n} messages, expected ${plan.batch}`);
    if (b > 0) per.push(((performance.now() - t0) * 1e6) / (plan.batch + 1));
  }
  delete hook.frameSinkDone;
  out.push({ step: 'host loop per message (tick): the receiving side whole', ns: round2(Math.min(...per)) });
  control.port2.postMessage({ type: 'stop', drain: false });
  new Doorbell(doorbell).wake();
  await running;
  control.port1.close();
}

export async function frameCosts(plan: FrameCostPlan = FRAME_COST_PLAN): Promise<StepCost[]> {
  const out: StepCost[] = [];
  codecSteps(plan, out);
  ringSteps(plan, out);
  pathSteps(plan, out);
  await hostStep(plan, out);
  return out;
}
