import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { waitAsync } from '../../src/ring/wait.js';

const waitModule = new URL('../../src/ring/wait.js', import.meta.url).href;

describe('ring waitAsync (the event loop held while waiting)', () => {
  it('gives the outcome at once, not a promise, when the value has changed already', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    i32[0] = 1;
    expect(waitAsync(i32, 0, 0, 1000)).to.equal('not-equal');
  });

  it('settles ok when notified and timed-out at its limit', async () => {
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    const woken = waitAsync(i32, 0, 0, 10_000);
    expect(woken).to.be.instanceOf(Promise);
    Atomics.notify(i32, 0);
    expect(await woken).to.equal('ok');
    expect(await waitAsync(i32, 0, 0, 20)).to.equal('timed-out');
  });

  it('keeps a process alive whose only pending work is the wait', () => {
    // Without the held timer Node 20 would exit here with an unsettled top-level await, printing nothing.
    const script = `import { waitAsync } from ${JSON.stringify(waitModule)};
      const r = await waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      process.stdout.write(r);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out).to.equal('timed-out');
  });

  it('sets no timer while it waits once the thread says its loop is held open elsewhere, and still settles', () => {
    const script = `import { waitAsync, loopHeldElsewhere } from ${JSON.stringify(waitModule)};
      const i32 = new Int32Array(new SharedArrayBuffer(4));
      const before = waitAsync(i32, 0, 0, 60_000);
      const held = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      Atomics.notify(i32, 0);
      await before;
      loopHeldElsewhere();
      const keep = setInterval(() => {}, 1000); // what holds the loop open instead (an actor's control port)
      const after = waitAsync(i32, 0, 0, 60_000);
      const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      setTimeout(() => Atomics.notify(i32, 0), 10);
      const r = await after;
      clearInterval(keep);
      process.stdout.write(JSON.stringify({ held, timers, r }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(out)).to.deep.equal({ held: 1, timers: 1, r: 'ok' }); // after: only the interval, no timer of the wait
  });
});
