// postMessage fan-out baseline, sending end: holds one MessagePort per
// receiving worker and, on each command, posts `count` ticks to the first `n`
// of them, one postMessage per receiver per tick, as a user fanning out by
// hand would. postMessage never blocks: what the receivers have not read yet
// queues in their ports, so `sent` is how fast ticks were handed over, not
// delivered.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { tick } from '../lib/payload.js';

export type SenderCommand = { type: 'send'; n: number; count: number };
export type SenderReport = { type: 'sent'; startAt: number; endAt: number };

const { ports } = workerData as { ports: MessagePort[] };
const control = parentPort!;

control.on('message', (cmd: SenderCommand) => {
  const startAt = performance.now();
  for (let seq = 0; seq < cmd.count; seq++) {
    const t = tick(seq, 0);
    for (let i = 0; i < cmd.n; i++) ports[i]!.postMessage(t);
  }
  control.postMessage({ type: 'sent', startAt, endAt: performance.now() } satisfies SenderReport);
});
