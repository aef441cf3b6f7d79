import { expectsReply, type Envelope } from '../codec/envelope.js';
import { RecordDecoder } from '../codec/records.js';
import { DecodeError, RingCorruptError } from '../errors.js';
import { RingReader, ringReadPos } from '../ring/ring.js';
import { MailboxGate } from '../transport/mailbox.js';
import { undecodableError } from '../transport/decoding.js';
import { countedLane, type Lane } from '../transport/protocol.js';
import type { CellServices } from './contract.js';

/**
 * Main-thread operations on an actor's rings, done only while no incarnation
 * of the actor is running (the main thread is then the rings' only reader).
 */

/** Take the oldest frame of `ring` out as poison: dead-letter it and settle its ask. */
export function takePoison(svc: CellServices, actor: string, ring: { ring: SharedArrayBuffer; lane: Lane }, err: Error): void {
  const reader = new RingReader(ring.ring);
  const taken = takeFrames(svc, actor, reader, 1, (env) => {
    svc.deadLetter({ kind: env.kind, from: env.from, to: actor, id: env.id, payload: env.payload, reason: `poison: ${err.message}` });
    if (expectsReply(env.kind)) svc.settleAsk(env.from, env.id, err);
  });
  if (taken > 0 && countedLane(ring.lane)) gateOf(svc, actor).release(1);
}

function gateOf(svc: CellServices, actor: string): MailboxGate {
  return new MailboxGate(svc.wiring.switchboard.describe(actor).doorbell);
}

/** Empty every mail ring of `actor`: each message is dead-lettered, each ask settled with `err`. */
export function retireRings(svc: CellServices, actor: string, rings: Array<{ ring: SharedArrayBuffer; lane: Lane }>, err: Error): number {
  let n = 0;
  const gate = gateOf(svc, actor);
  for (const { ring, lane } of rings) {
    if (lane === 'reply') continue;
    const before = n;
    n += takeFrames(svc, actor, new RingReader(ring), Infinity, (env) => {
      svc.deadLetter({ kind: env.kind, from: env.from, to: actor, id: env.id, payload: env.payload, reason: err.message });
      if (expectsReply(env.kind)) svc.settleAsk(env.from, env.id, err);
    });
    if (countedLane(lane) && n > before) gate.release(n - before);
  }
  return n;
}

function takeFrames(svc: CellServices, actor: string, reader: RingReader, max: number, fn: (env: Envelope) => void): number {
  let n = 0;
  // The frames may use the ring's record structures: they are in the ring, where the actor's next incarnation would find them too.
  const records = new RecordDecoder(reader, { copyBuffers: true, mapsAsObjects: true });
  try {
    n = reader.drain(max, (bytes, offset, length) => {
      let env: Envelope;
      try {
        env = svc.codec.decode(bytes, offset, length, actor, records);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        const { raw, header } = svc.codec.recover(bytes, offset, length, records);
        const err = undecodableError(actor, e, header);
        svc.deadLetter({ kind: header?.kind ?? 'tell', from: header?.from ?? '?', to: actor, id: header?.id ?? 0, payload: raw, reason: err.message });
        if (header && expectsReply(header.kind)) svc.settleAsk(header.from, header.id, err);
        return;
      }
      fn(env);
    });
  } catch (e) {
    if (!(e instanceof RingCorruptError)) throw e;
    svc.deadLetter({ kind: 'tell', from: '?', to: actor, id: 0, payload: null, reason: `ring corrupt: ${e.message}` });
  }
  return n;
}

/** The frame the latest crashes happened on (`slot:readPos`) and how many incarnations died on it. */
export interface PoisonMark {
  key: string;
  deaths: number;
}

/**
 * Count one more death on the frame that was in flight in `slot`; past
 * `maxRedeliveries` it leaves the inbox as poison. Returns the new mark.
 */
export function checkPoison(svc: CellServices, actor: string, slot: number, err: Error, mark: PoisonMark, maxRedeliveries: number): PoisonMark {
  if (slot < 0) return mark;
  const ring = svc.wiring.switchboard.describe(actor).rings.find((r) => r.slot === slot);
  if (!ring) return mark;
  const key = `${slot}:${ringReadPos(ring.ring)}`;
  const next = key === mark.key ? { key, deaths: mark.deaths + 1 } : { key, deaths: 1 };
  if (next.deaths <= maxRedeliveries) return next;
  takePoison(svc, actor, ring, err);
  return { key: '', deaths: 0 };
}
