import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { actors } from './system-helpers.js';

const INDEX = new URL('../../src/index.js', import.meta.url).href;

describe('the system log tells the story of a recovery (real workers, real stdout)', function () {
  this.timeout(60_000);

  it('logs the crash, the restart about to happen (delay and strategy) and the restarted incarnation, at info', () => {
    const script = `
      import { ActorSystem } from ${JSON.stringify(INDEX)};
      const system = await ActorSystem.start({ name: 'logs', log: { level: 'info', pretty: false }, tree: {
        id: 'root', strategy: 'one_for_one',
        children: [{ id: 'c', module: ${JSON.stringify(actors('crasher'))}, backoff: { min: 20, max: 20, randomFactor: 0 } }] } });
      await new Promise((resolve) => { system.on('restarted', resolve); system.ref('c').tell({ op: 'throw' }); });
      await system.stop();
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000 });
    expect(run.status, run.stderr).to.equal(0);
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const story = lines.filter((l) => l.actor === 'c' && typeof l.msg === 'string' && l.msg.startsWith('actor ')).map((l) => l.msg);
    expect(story).to.deep.equal(['actor crashed', 'actor restarting', 'actor restarted']);
    expect(lines.find((l) => l.msg === 'actor restarting')).to.deep.include({ level: 30, delayMs: 20, strategy: 'one_for_one' });
    expect(lines.find((l) => l.msg === 'actor restarted')).to.deep.include({ level: 30, incarnation: 2 });
  });
});
