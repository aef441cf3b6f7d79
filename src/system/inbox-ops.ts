import type { Envelope } from '../codec/envelope.js';
import { DecodeError, RingCorruptError } from '../errors.js';
import { RingReader } from '../ring/ring.js';
import type { CellServices } from './services.js';

/**
 * Main-thread operations on an actor's rings, done only while no incarnation
 * of the actor is running (the main thread is then the rings' only reader).
 */

/** Take the oldest frame of `ring` out as poison: dead-letter it and settle its ask. */
export function takePoison(svc: CellServices, actor: string, ring: SharedArrayBuffer, err: Error): void {
  const reader = new RingReader(ring);
  takeFrames(svc, actor, reader, 1, (env) => {
    svc.deadLetter({ kind: env.kind, from: env.from, to: actor, id: env.id, payload: env.payload, reason: `poison: ${err.message}` });
    if (env.kind === 'ask') svc.settleAsk(env.from, env.id, err);
  });
}

/** Empty every mail ring of `actor`: each message is dead-lettered, each ask settled with `err`. */
export function retireRings(svc: CellServices, actor: string, rings: Array<{ ring: SharedArrayBuffer; lane: string }>, err: Error): number {
  let n = 0;
  for (const { ring, lane } of rings) {
    if (lane !== 'mail') continue;
    n += takeFrames(svc, actor, new RingReader(ring), Infinity, (env) => {
      svc.deadLetter({ kind: env.kind, from: env.from, to: actor, id: env.id, payload: env.payload, reason: err.message });
      if (env.kind === 'ask') svc.settleAsk(env.from, env.id, err);
    });
  }
  return n;
}

function takeFrames(svc: CellServices, actor: string, reader: RingReader, max: number, fn: (env: Envelope) => void): number {
  let n = 0;
  try {
    n = reader.drain(max, (bytes, offset, length) => {
      let env: Envelope;
      try {
        env = svc.codec.decode(bytes, offset, length);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        svc.deadLetter({ kind: 'tell', from: '?', to: actor, id: 0, payload: Uint8Array.prototype.slice.call(bytes, offset, offset + length), reason: e.message });
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
