// A node of the scale benchmark as a plain worker: what it does is
// bench/lib/scale-node.ts; here it holds one MessagePort per peer it talks to
// (MessageChannel pairs, thread to thread, no main-thread hop) and takes its
// commands and gives its reports on parentPort.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Tick } from '../lib/payload.js';
import { ScaleNode, type ScaleCommand, type ScaleDone, type ScaleNodeConfig } from '../lib/scale-node.js';

export type PortNodeReport =
  | { type: 'ready' }
  | { type: 'armed' }
  | ({ type: 'done' } & ScaleDone)
  | { type: 'samples'; samples: Float64Array };

export interface PortNodeData extends ScaleNodeConfig {
  /** ports[k] leads to node peers[k]. */
  peers: number[];
  ports: MessagePort[];
}

const data = workerData as PortNodeData;
const control = parentPort!;
const byPeer: MessagePort[] = new Array<MessagePort>(data.nodes);
for (let k = 0; k < data.peers.length; k++) byPeer[data.peers[k]!] = data.ports[k]!;

const node = new ScaleNode(data.role, data.index, {
  send: (to, t) => byPeer[to]!.postMessage(t),
  done: (d) => control.postMessage({ type: 'done', ...d } satisfies PortNodeReport),
});
const onTick = (t: Tick): void => node.onTick(t);
for (const port of data.ports) port.on('message', onTick);

control.on('message', (c: ScaleCommand) => {
  const answer = node.command(c);
  if (answer === 'armed') control.postMessage({ type: 'armed' } satisfies PortNodeReport);
  else if (answer instanceof Float64Array) control.postMessage({ type: 'samples', samples: answer } satisfies PortNodeReport, [answer.buffer as ArrayBuffer]);
});
control.postMessage({ type: 'ready' } satisfies PortNodeReport);
