// Baseline for restart timing, with no runtime around it: announces itself
// once running, then dies of an uncaught exception on any message.
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
port.on('message', () => {
  throw new Error('boom');
});
port.postMessage('ready');
