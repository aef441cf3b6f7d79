// A fan-out subscriber: counts the ticks it gets (published or sent to it
// directly, the handler cannot tell and does the same work) and, once it has
// the number it was told to expect, publishes its count and the clock times
// of its first and last tick on DONE_SUBJECT, which the main thread follows.
import { defineActor } from '../../src/actor/index.js';
import type { Tick } from '../lib/payload.js';

export const DONE_SUBJECT = 'bench.fanout.done';

export interface CounterDone {
  id: string;
  count: number;
  /** Ticks whose seq was not the one after the previous tick's. */
  outOfOrder: number;
  /** performance.now() at the first and the last tick (one time line across threads in Node 20; see bench/lib/clock.ts). */
  firstAt: number;
  lastAt: number;
}

export type CounterMsg = { op: 'expect'; n: number } | Tick;

interface State {
  expect: number;
  count: number;
  next: number;
  outOfOrder: number;
  firstAt: number;
}

export default defineActor({
  init: (): State => ({ expect: 0, count: 0, next: 0, outOfOrder: 0, firstAt: 0 }),
  receive(state: State, msg: CounterMsg, ctx): string | undefined {
    if ('op' in msg) {
      Object.assign(state, { expect: msg.n, count: 0, next: 0, outOfOrder: 0, firstAt: 0 });
      return 'armed';
    }
    if (state.count === 0) state.firstAt = performance.now();
    if (msg.seq !== state.next) state.outOfOrder++;
    state.next = msg.seq + 1;
    if (++state.count === state.expect) {
      const done: CounterDone = { id: ctx.self, count: state.count, outOfOrder: state.outOfOrder, firstAt: state.firstAt, lastAt: performance.now() };
      ctx.publish(DONE_SUBJECT, done);
    }
    return undefined;
  },
});
