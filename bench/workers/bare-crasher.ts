// A worker with no runtime around it, the baseline for restarts and idle
// cost: announces itself once running, then waits on its port; any message
// kills it with an uncaught exception.
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
port.on('message', () => {
  throw new Error('boom');
});
port.postMessage('ready');
