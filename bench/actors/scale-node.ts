// A node of the scale benchmark as a ringmaster actor: what it does is
// bench/lib/scale-node.ts; here it sends with ctx.send and reports on a topic.
import { defineActor } from '../../src/actor/index.js';
import type { Tick } from '../lib/payload.js';
import { SCALE_DONE_SUBJECT, ScaleNode, type ScaleCommand, type ScaleNodeConfig } from '../lib/scale-node.js';

export default defineActor({
  init(ctx): ScaleNode {
    const c = ctx.config as ScaleNodeConfig;
    const ids = Array.from({ length: c.nodes }, (_, i) => `${c.prefix}${i}`);
    return new ScaleNode(c.role, c.index, {
      send: (to, t) => ctx.send(ids[to]!, t),
      done: (d) => void ctx.publish(SCALE_DONE_SUBJECT, d),
    });
  },
  receive(node: ScaleNode, msg: Tick | ScaleCommand): unknown {
    if (!('op' in msg)) {
      node.onTick(msg);
      return undefined;
    }
    const answer = node.command(msg);
    // Latencies travel as the raw bytes of their Float64Array (msgpack would turn the array itself into a Buffer anyway).
    return answer instanceof Float64Array ? new Uint8Array(answer.buffer, answer.byteOffset, answer.byteLength) : answer;
  },
  stop(node: ScaleNode): void {
    node.halt();
  },
});
