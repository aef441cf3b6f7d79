// The receiver of bench:cluster: an ask gets its message back, a tell is
// counted; `{ op: 'count' }` answers how many it has counted so far.
import { defineActor } from '../../src/actor/index.js';

export default defineActor({
  init: (): { n: number } => ({ n: 0 }),
  receive: (state: { n: number }, msg: unknown): unknown => {
    if ((msg as { op?: string }).op === 'count') return state.n;
    state.n++;
    return msg;
  },
});
