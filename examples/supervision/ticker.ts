// Sends a numbered job to the worker every `everyMs` and keeps count of the answers.
import { defineActor } from '../../src/actor/index.js';

interface Config {
  everyMs: number;
}

export default defineActor({
  init: (ctx) => {
    const state = { next: 1, answered: 0, failed: 0, timer: undefined as NodeJS.Timeout | undefined };
    const { everyMs } = ctx.config as Config;
    state.timer = setInterval(() => {
      const n = state.next++;
      ctx.ask<number>('worker', { n }, { timeout: 2000 }).then(
        () => state.answered++,
        (err: Error) => {
          state.failed++;
          ctx.log.warn({ n, err: err.message }, 'job failed');
        },
      );
    }, everyMs);
    return state;
  },
  receive: (state) => ({ sent: state.next - 1, answered: state.answered, failed: state.failed }),
  stop: (state) => clearInterval(state.timer),
});
