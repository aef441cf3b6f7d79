// Squares numbers; crashes on every multiple of `crashEvery` (a bug in the wild).
import { defineActor } from '../../src/actor/index.js';

interface Config {
  crashEvery: number;
}

export default defineActor({
  init: (ctx) => {
    ctx.log.info('worker up');
    return { done: 0 };
  },
  receive(state, msg: { n: number }, ctx) {
    if (msg.n % (ctx.config as Config).crashEvery === 0) throw new Error(`cannot handle job ${msg.n}`);
    state.done++;
    return msg.n * msg.n;
  },
});
