import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actors } from './system-helpers.js';

const INDEX = new URL('../../src/index.js', import.meta.url).href;

/** A script that starts a system of one actor (a standby too), asks it twice across a restart and prints what its worker saw. */
const script = `
  import { ActorSystem } from ${JSON.stringify(INDEX)};
  const system = await ActorSystem.start({ name: 'flags', log: { level: 'silent' }, tree: {
    id: 'root', strategy: 'one_for_one',
    children: [{ id: 'e', module: ${JSON.stringify(actors('echo'))}, standby: true, backoff: { min: 1, max: 1, randomFactor: 0 } }] } });
  const first = await system.ref('e').ask({ op: 'execArgv' });
  await system.restartActor('e');
  const second = await system.ref('e').ask({ op: 'execArgv' });
  const who = await system.ref('e').ask({ op: 'whoami' });
  console.log(JSON.stringify({ first, second, incarnation: who.incarnation }));
  await system.stop();
`;

function run(args: string[]): { first: string[]; second: string[]; incarnation: number } {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 50_000 });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { first: string[]; second: string[]; incarnation: number };
}

describe('node flags of the main process (real processes, real workers)', function () {
  this.timeout(60_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rm-flags-'));
    writeFileSync(join(dir, 'main.mjs'), script);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts and restarts actors under V8 and process-wide flags that an explicit worker execArgv may not carry', () => {
    const out = run(['--max-old-space-size=512', '--stack-size=2000', '--enable-source-maps', join(dir, 'main.mjs')]);
    expect(out.incarnation).to.equal(2);
    // Inherited as they are: what the worker sees is the main process's own flags.
    expect(out.first).to.include('--enable-source-maps').and.include('--max-old-space-size=512');
    expect(out.second).to.deep.equal(out.first);
  });

  it('started from node -e with --input-type beside such flags: workers boot without --input-type and keep the flags they may carry', () => {
    const out = run(['--input-type', 'module', '--max-old-space-size=512', '--enable-source-maps', '-e', script]);
    expect(out.incarnation).to.equal(2);
    expect(out.first).to.include('--enable-source-maps');
    expect(out.first.some((a) => a.startsWith('--input-type') || a === 'module')).to.equal(false);
    expect(out.first).to.not.include('--max-old-space-size=512');
    expect(out.second).to.deep.equal(out.first);
  });
});
