import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, CONFIGS, INDEX, MAIN, Processes, waitFor, type Run } from './cli-helpers.js';
import { actors, until } from './system-helpers.js';

/** The system's own JSON log line saying it stopped, with its reason. */
const stoppedLine = (stdout: string): { reason?: string } | undefined =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; reason?: string })
    .find((l) => l.msg === 'system stopped');

describe('ringmaster start: stopping on a signal (real processes)', function () {
  this.timeout(60_000);
  const processes = new Processes();
  const orphans: number[] = [];
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-start-'))));
  afterEach(async () => {
    for (const pid of orphans.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await processes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Start the one-actor fixture and wait until its /ready says 200; its URL. */
  async function started(): Promise<{ run: Run; url: string }> {
    const run = processes.launch(['start', join(CONFIGS, 'one.yaml')]);
    const [, url] = await waitFor(run, /listening on (http:\/\/[\d.]+:\d+)/);
    await waitFor(run, /stops it gracefully/);
    await until(async () => (await fetch(`${url}/ready`).catch(() => null))?.status === 200, '/ready to answer 200');
    return { run, url: url! };
  }

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${signal}: stops the system gracefully, then exits 0`, async () => {
      const { run, url } = await started();
      run.child.kill(signal);
      expect(await run.exit, run.stderr).to.equal(0);
      expect(run.child.signalCode).to.equal(null);
      expect(run.stderr).to.include(`ringmaster: ${signal}: stopping gracefully`);
      expect(stoppedLine(run.stdout)).to.include({ reason: `signal ${signal}` });
      // The process is gone, and its workers and listener with it.
      expect(await fetch(`${url}/ready`).catch((e: Error & { cause?: { code?: string } }) => e.cause?.code)).to.equal('ECONNREFUSED');
    });
  }

  it('a signal while the system is still starting stops it as soon as it is up (exit 0, no start-up summary)', async () => {
    const marker = join(dir, 'in-init');
    const go = join(dir, 'go');
    writeFileSync(
      join(dir, 'slow-init.js'),
      `import { existsSync, writeFileSync } from 'node:fs';\nimport { defineActor } from ${JSON.stringify(INDEX)};\n` +
        `export default defineActor({\n  async init() {\n    writeFileSync(${JSON.stringify(marker)}, '');\n` +
        `    await new Promise((resolve) => { const t = setInterval(() => { if (existsSync(${JSON.stringify(go)})) { clearInterval(t); resolve(); } }, 10); });\n` +
        `    return {};\n  },\n  receive: (_s, m) => m,\n});\n`,
    );
    writeFileSync(join(dir, 'slow.yaml'), `tree:\n  id: root\n  strategy: one_for_one\n  children:\n    - id: slow\n      module: ./slow-init.js\nlog: { level: info, pretty: false }\n`);
    const run = processes.launch(['start', join(dir, 'slow.yaml')]);
    await until(() => existsSync(marker), 'the actor to be in its init');
    run.child.kill('SIGTERM');
    await waitFor(run, /SIGTERM: stopping gracefully/);
    writeFileSync(go, '');
    expect(await run.exit, run.stderr).to.equal(0);
    expect(run.stderr).not.to.include('running:');
    expect(stoppedLine(run.stdout)).to.include({ reason: 'signal SIGTERM' });
  });

  it('the same signal twice at once (npm passing on a Ctrl-C the terminal sent too) is one graceful stop, exit 0', async () => {
    const { run } = await started();
    run.child.kill('SIGINT');
    run.child.kill('SIGINT');
    expect(await run.exit, run.stderr).to.equal(0);
    expect(run.stderr.match(/stopping gracefully/g)).to.have.length(1);
    expect(run.stderr).not.to.include('SIGINT again');
  });

  it('a second signal during the graceful stop forces exit 130', async () => {
    const file = join(dir, 'slow-stop.yaml');
    writeFileSync(
      file,
      `tree:\n  id: root\n  strategy: one_for_one\n  children:\n    - id: slow\n      module: ${actors('slow-stop')}\n      shutdown: infinity\n      config: { stopMs: 30000, marker: ${JSON.stringify(join(dir, 'stopped'))} }\nlog: { level: silent }\n`,
    );
    const run = processes.launch(['start', file]);
    await waitFor(run, /stops it gracefully/);
    run.child.kill('SIGINT');
    await waitFor(run, /SIGINT: stopping gracefully/);
    // Pressed again, as a person would: a repeat within the first half second is taken for the same press.
    let exited = false;
    void run.exit.then(() => (exited = true));
    while (!exited) {
      run.child.kill('SIGINT');
      await sleep(100);
    }
    expect(await run.exit).to.equal(130);
    expect(run.stderr).to.include('SIGINT again: exiting without waiting for the graceful stop');
    expect(existsSync(join(dir, 'stopped'))).to.equal(false);
  });

  it('under npm: stopping npm stops the system too, even when npm’s shell dies and leaves it without a parent', async function () {
    if (spawnSync('npm', ['--version'], { stdio: 'ignore' }).status !== 0) this.skip();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'under-npm', version: '1.0.0', private: true, scripts: { serve: `node ${JSON.stringify(MAIN)} start ${JSON.stringify(join(CONFIGS, 'one.yaml'))}` } }));
    const npm = processes.launch(['run', '--silent', 'serve'], { npm_config_update_notifier: 'false' }, { file: 'npm', options: { cwd: dir } });
    const [, url] = await waitFor(npm, /listening on (http:\/\/[\d.]+:\d+)/);
    const [, pid] = await waitFor(npm, /kill -INT (\d+)'/);
    orphans.push(Number(pid));
    await until(async () => (await fetch(`${url}/ready`).catch(() => null))?.status === 200, '/ready to answer 200');
    // What a service manager or a terminal multiplexer does: signal the process it started, npm.
    npm.child.kill('SIGTERM');
    await until(() => !alive(Number(pid)), 'ringmaster to exit');
    expect(npm.stderr).to.match(/ringmaster: (SIGTERM|its parent process \d+ \(started by npm\) is gone): stopping gracefully/);
    await until(() => stoppedLine(npm.stdout), 'the stop to be logged');
  });
});
