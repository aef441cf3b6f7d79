// The publishing side of the fan-out measure: each 'burst' ask sends k ticks
// to the current set of subscribers, either as one ctx.publish per tick
// (topic routing) or as one ctx.send per subscriber (the same fan-out by hand).
// Batching k messages into one ask keeps the main thread's round trip off the
// measured path without queueing the whole run in one handler.
import { defineActor } from '../../src/actor/index.js';
import { tick } from '../lib/payload.js';

export type FanOutMode = 'publish' | 'send';

export type PublisherMsg =
  /** Fan-out for the bursts that follow: publish on `subject`, or send to each of `targets`. */
  | { op: 'plan'; mode: FanOutMode; subject: string; targets: string[] }
  /** Ticks with seq `from` … `from + k - 1`; answers with the deliveries made (publish: subscribers reached). */
  | { op: 'burst'; from: number; k: number };

interface State {
  mode: FanOutMode;
  subject: string;
  targets: string[];
}

export default defineActor({
  init: (): State => ({ mode: 'publish', subject: '', targets: [] }),
  receive(state: State, msg: PublisherMsg, ctx): number | string {
    if (msg.op === 'plan') {
      state.mode = msg.mode;
      state.subject = msg.subject;
      state.targets = msg.targets;
      return 'planned';
    }
    const end = msg.from + msg.k;
    let delivered = 0;
    if (state.mode === 'publish') {
      for (let seq = msg.from; seq < end; seq++) delivered += ctx.publish(state.subject, tick(seq, 0));
    } else {
      const targets = state.targets;
      for (let seq = msg.from; seq < end; seq++) {
        const t = tick(seq, 0);
        for (let i = 0; i < targets.length; i++) ctx.send(targets[i]!, t);
      }
      delivered = msg.k * targets.length;
    }
    return delivered;
  },
});
