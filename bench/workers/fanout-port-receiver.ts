// postMessage fan-out baseline, receiving end: the counterpart of
// bench/actors/fanout-counter.ts in a plain worker. Ticks come on `port` (a
// MessageChannel end whose other end the sending worker holds); control
// messages and the done report go over parentPort.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { CounterDone } from '../actors/fanout-counter.js';
import type { Tick } from '../lib/payload.js';

export type ReceiverCommand = { type: 'expect'; n: number };
export type ReceiverReport = { type: 'armed' } | ({ type: 'done' } & CounterDone);

const { port, id } = workerData as { port: MessagePort; id: string };
const control = parentPort!;
let expect = 0;
let count = 0;
let next = 0;
let outOfOrder = 0;
let firstAt = 0;

control.on('message', (cmd: ReceiverCommand) => {
  expect = cmd.n;
  count = next = outOfOrder = firstAt = 0;
  control.postMessage({ type: 'armed' } satisfies ReceiverReport);
});

port.on('message', (t: Tick) => {
  if (count === 0) firstAt = performance.now();
  if (t.seq !== next) outOfOrder++;
  next = t.seq + 1;
  if (++count === expect) control.postMessage({ type: 'done', id, count, outOfOrder, firstAt, lastAt: performance.now() } satisfies ReceiverReport);
});
