// A persistent actor for bench/persistence.ts: persists `n` events one after another
// (each awaited: one durable write each) and reports the time and each persist's latency.
import { defineActor } from '../../src/actor/index.js';

export type PersistBenchMsg = { op: 'run'; n: number; payload: string } | { op: 'count' };

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
      await ctx.persist({ i, at: Date.now(), payload: msg.payload });
      lat[i] = (performance.now() - s) * 1000;
    }
    return { count: state.count, lat, ms: performance.now() - t0 };
  },
});
