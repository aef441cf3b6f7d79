import { expect } from 'chai';
import { Worker } from 'node:worker_threads';

const LOGGER = new URL('../../src/log/logger.js', import.meta.url).href;

/** Run `body` in a fresh worker (its own module cache) with lazyLogger imported; resolves with what it posts. */
function inWorker(body: string): Promise<unknown> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/pino/'));
    import(${JSON.stringify(LOGGER)}).then(({ lazyLogger }) => { ${body} }).catch((e) => parentPort.postMessage({ error: String(e) }));
  `;
  const w = new Worker(code, { eval: true, stdout: true });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      void w.terminate().then(() => resolve(m));
    });
    w.once('error', reject);
  });
}

describe('lazyLogger: an actor worker boots without pino', () => {
  it('loads pino only on the first use, and logs through it from then on', async () => {
    const r = await inWorker(`
      const log = lazyLogger({ level: 'silent', pretty: false, base: { actor: 'a' } });
      const before = loaded();
      log.level = 'warn';
      const afterLevel = loaded();
      const level = log.level;
      log.info('not written');
      const afterUse = loaded();
      const child = log.child({ k: 1 });
      parentPort.postMessage({ before, afterLevel, level, afterUse, realLevel: log.level, childLevel: child.level, enabled: log.isLevelEnabled('error') });
    `);
    expect(r).to.deep.equal({ before: false, afterLevel: false, level: 'warn', afterUse: true, realLevel: 'warn', childLevel: 'warn', enabled: true });
  });

  it('refuses a level pino does not know before pino is loaded, keeping the one it had', async () => {
    const r = await inWorker(`
      const log = lazyLogger({ level: 'info', pretty: false, base: {} });
      let error = '';
      try { log.level = 'loud'; } catch (e) { error = e.message; }
      parentPort.postMessage({ error, level: log.level, loaded: loaded() });
    `);
    expect(r).to.deep.equal({ error: 'unknown level loud', level: 'info', loaded: false });
  });

  it('hands out members bound to the real logger (destructured methods work)', async () => {
    const r = await inWorker(`
      const log = lazyLogger({ level: 'silent', pretty: false, base: {} });
      const { warn } = log;
      warn('nothing is written at silent');
      parentPort.postMessage({ same: log.warn === warn, loaded: loaded() });
    `);
    expect(r).to.deep.equal({ same: true, loaded: true });
  });
});
