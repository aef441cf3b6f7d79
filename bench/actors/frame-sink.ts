// The receiving actor of the frame-cost measure (bench/lib/frame-costs.ts),
// run by a Host on the measuring thread itself: it does nothing with a
// message but count it, and on the string 'done' calls the hook the measure
// left on globalThis, so the time per message is the host's own.
import { defineActor } from '../../src/actor/index.js';

/** Set by the measure before it writes 'done'; called on the measuring thread. */
export interface FrameSinkHook {
  frameSinkDone?: (count: number) => void;
}

export default defineActor({
  init: (): { n: number } => ({ n: 0 }),
  receive(state: { n: number }, msg: unknown): undefined {
    if (msg === 'done') {
      (globalThis as FrameSinkHook).frameSinkDone?.(state.n);
      state.n = 0;
    } else state.n++;
    return undefined;
  },
});
