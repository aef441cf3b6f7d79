// One side of bench/wake.ts: wait for its turn (asleep), hand the turn over, wake the other side.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

export type WakeMode = 'port' | 'waitAsync' | 'wait';
export interface WakeData {
  sab: SharedArrayBuffer;
  /** 0 or 1: whose turn word 0 says it is. */
  me: number;
  rounds: number;
  mode: WakeMode;
  port: MessagePort;
}

const { sab, me, rounds, mode, port } = workerData as WakeData;
const turn = new Int32Array(sab);

async function byPort(): Promise<void> {
  let k = 0;
  await new Promise<void>((done) => {
    port.on('message', () => {
      k++;
      if (me === 1) port.postMessage(0);
      if (k === rounds) done();
      else if (me === 0) port.postMessage(0);
    });
    if (me === 0) port.postMessage(0);
  });
  port.close();
}

async function byAtomics(blocking: boolean): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000);
  for (let k = 0; k < rounds; k++) {
    for (;;) {
      const v = Atomics.load(turn, 0);
      if (v === me) break;
      if (blocking) Atomics.wait(turn, 0, v);
      else {
        const w = Atomics.waitAsync(turn, 0, v);
        if (w.async) await w.value;
      }
    }
    Atomics.store(turn, 0, 1 - me);
    Atomics.notify(turn, 0);
  }
  clearInterval(keepAlive);
}

await (mode === 'port' ? byPort() : byAtomics(mode === 'wait'));
parentPort!.postMessage('done');
