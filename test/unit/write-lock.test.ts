import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { WRITE_LOCK_BYTES, WriteLock } from '../../src/persistence/write-lock.js';

const MODULE = new URL('../../src/persistence/write-lock.js', import.meta.url).href;

/** Run `body` in a worker thread (Atomics.wait may block there), with `lock` a WriteLock on `buffer`; resolves with what it posts. */
function inWorker(buffer: SharedArrayBuffer, body: string): Promise<unknown> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.module).then(({ WriteLock }) => {
      const lock = new WriteLock(workerData.buffer);
      const word = new Int32Array(workerData.buffer, 0, 1);
      ${body}
    });`;
  const w = new Worker(code, { eval: true, workerData: { module: MODULE, buffer } });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

describe('the write lock of a database (futex word in shared memory, real threads)', function () {
  this.timeout(20_000);

  it('lets one writer in at a time: two threads counting under it lose no increment', async () => {
    const buffer = new SharedArrayBuffer(WRITE_LOCK_BYTES + 8);
    const body = `
      const counter = new Int32Array(workerData.buffer, 8, 1);
      for (let i = 0; i < 20000; i++) lock.run(() => { const v = counter[0]; counter[0] = v + 1; });
      parentPort.postMessage('done');`;
    await Promise.all([inWorker(buffer, body), inWorker(buffer, body)]);
    expect(new Int32Array(buffer, 8, 1)[0]).to.equal(40000);
    expect(new Int32Array(buffer, 0, 1)[0], 'free at the end').to.equal(0);
  });

  it('takes over a lock whose holder never released it (a terminated thread), and leaves it free', async () => {
    const buffer = new SharedArrayBuffer(WRITE_LOCK_BYTES);
    new Int32Array(buffer, 0, 1)[0] = 1; // held by nobody alive
    const got = await inWorker(buffer, `parentPort.postMessage([lock.run(() => 42), Atomics.load(word, 0)]);`);
    expect(got).to.deep.equal([42, 0]);
  });

  it('is set free by the main thread when the thread holding it has ended, and only then', () => {
    const buffer = new SharedArrayBuffer(WRITE_LOCK_BYTES);
    const w = new Int32Array(buffer, 0, 2);
    w[0] = 1;
    w[1] = 42; // held by thread 42
    WriteLock.releaseFor(buffer, 7);
    expect([w[0], w[1]], 'another thread ended: still held').to.deep.equal([1, 42]);
    WriteLock.releaseFor(buffer, 42);
    expect([w[0], w[1]]).to.deep.equal([0, 0]);
  });
});
