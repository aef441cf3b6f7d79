// A persistent actor for bench/persistence.ts: persists `n` events one after another
// (each awaited: one durable write each) and reports the time and each persist's latency.
// `encode` is the control: the same loop and the same encoding of each event, no journal.
import { Packr } from 'msgpackr/pack';
import { defineActor } from '../../src/actor/index.js';

export type PersistBenchMsg = { op: 'run' | 'encode'; n: number; payload: string } | { op: 'count' };

const packr = new Packr({ useRecords: false });

export default defineActor({
  init: () => ({ count: 0 }),
  persistence: {
    apply(state: { count: number }) {
      state.count++;
      return state;
    },
  },
  async receive(state, msg: PersistBenchMsg, ctx) {
    if (msg.op === 'count') return { count: state.count, lat: new Float32Array(0), ms: 0 };
    // Float32: 4 bytes a figure, so 20k of them fit in one reply.
    const lat = new Float32Array(msg.n);
    const t0 = performance.now();
    for (let i = 0; i < msg.n; i++) {
      const s = performance.now();
      if (msg.op === 'run') await ctx.persist({ i, at: Date.now(), payload: msg.payload });
      else await Promise.resolve(packr.pack({ i, at: Date.now(), payload: msg.payload }));
      lat[i] = (performance.now() - s) * 1000;
    }
    return { count: state.count, lat, ms: performance.now() - t0 };
  },
});
