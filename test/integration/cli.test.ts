import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIGS, INDEX, Processes, waitFor } from './cli-helpers.js';
import { actors, until } from './system-helpers.js';

describe('the ringmaster command (real processes)', function () {
  this.timeout(60_000);
  const processes = new Processes();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-cli-'))));
  afterEach(async () => {
    await processes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const launch = processes.launch.bind(processes);
  const ringmaster = processes.ringmaster.bind(processes);

  it('validate: loads every module as a start would, and reports all of a file’s mistakes in one run', async () => {
    const file = join(dir, 'four.yaml');
    writeFileSync(
      file,
      [
        'name: four',
        'tree:',
        '  id: root',
        '  strategy: one_for_one',
        '  children:',
        '    - id: a',
        `      module: ${actors('not-an-actor')}`,
        '      restart: sometimes',
        '    - id: b',
        '      module: ./missing.js',
        '      typo: 1',
        '    - id: c',
        `      module: ${actors('throws-on-import')}`,
        '    - id: d',
        `      module: ${actors('echo')}`,
        '    - id: e',
        `      module: ${actors('not-an-actor')}`,
        'http:',
        '  port: eighty',
      ].join('\n'),
    );
    const r = await ringmaster(['validate', file]);
    expect(r.code).to.equal(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).to.equal(`${file}: 7 problems:`);
    expect(lines.slice(1).map((l) => l.trim().split(': ').slice(0, 2).join(': '))).to.deep.equal([
      `${file}:7: tree.children[0].module`,
      `${file}:8: tree.children[0].restart`,
      `${file}:10: tree.children[1].module`,
      `${file}:11: tree.children[1].typo`,
      `${file}:13: tree.children[2].module`,
      `${file}:17: tree.children[4].module`,
      `${file}:19: http.port`,
    ]);
    expect(lines[1]).to.include('has no default export made by defineActor()');
    expect(lines[3]).to.include(`module file not found: ${join(dir, 'missing.js')}`);
    expect(lines[5]).to.include('this module fails at import');
    expect(lines[6], 'a file two children name is loaded once and reported at both').to.include('has no default export made by defineActor()');
  });

  it('validate: exit 0 with an OK line, or exit 1 with every problem by line, path and reason', async () => {
    const ok = await ringmaster(['validate', join(CONFIGS, 'echo.yaml')]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/echo\.yaml: OK — system 'fixture': 2 actors under 1 supervisor/);
    expect((await ringmaster(['validate', join(CONFIGS, 'echo.json')])).code).to.equal(0);

    const bad = await ringmaster(['validate', join(CONFIGS, 'invalid.yaml')]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('5 problems');
    for (const expected of [':5: tree.strategy: ', ':9: tree.children[0].restart: ', ':10: tree.children[0].typo: unknown field', ':12: http.port: ', ':13: colour: unknown field']) {
      expect(bad.stderr).to.include(`invalid.yaml${expected}`);
    }
    const syntax = await ringmaster(['validate', join(CONFIGS, 'syntax.json')]);
    expect(syntax.code).to.equal(1);
    expect(syntax.stderr).to.include("syntax.json:4: Expected double-quoted property name");
    const yamlSyntax = await ringmaster(['validate', join(CONFIGS, 'syntax.yaml')]);
    expect(yamlSyntax.code).to.equal(1);
    expect(yamlSyntax.stderr).to.match(/syntax\.yaml:6: Flow (map|sequence) in block collection/);

    const env = await ringmaster(['validate', join(CONFIGS, 'echo.yaml')], { RINGMASTER_HTTP_PORT: 'eighty' });
    expect(env.code).to.equal(1);
    expect(env.stderr).to.include("env RINGMASTER_HTTP_PORT: http.port: must be an integer from 0 to 65535, got 'eighty'");
  });

  it('--help for the command and each subcommand; usage errors exit 2 and name what was wrong', async () => {
    const top = await ringmaster(['--help']);
    expect(top.code).to.equal(0);
    expect(top.stdout).to.include('Usage: ringmaster <command>');
    for (const cmd of ['start', 'validate', 'config', 'status', 'bench']) {
      const h = await ringmaster([cmd, '--help']);
      expect(h.code, cmd).to.equal(0);
      expect(h.stdout).to.include(`Usage: ringmaster ${cmd}`);
    }
    const flag = await ringmaster(['validate', '--colour', join(CONFIGS, 'echo.yaml')]);
    expect(flag.code).to.equal(2);
    expect(flag.stderr).to.include("unknown option '--colour'");
    const command = await ringmaster(['launch']);
    expect(command.code).to.equal(2);
    expect(command.stderr).to.include("unknown command 'launch'");
    const missing = await ringmaster(['validate', join(dir, 'nope.yaml')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include(`cannot read ${join(dir, 'nope.yaml')}: no such file`);
    const noFile = await ringmaster(['start']);
    expect(noFile.code).to.equal(2);
    expect(noFile.stderr).to.include('missing the config file');
    const noToken = await ringmaster(['config', 'rollback', '1']);
    expect(noToken.code).to.equal(2);
    expect(noToken.stderr).to.include('--token');
  });

  it('config --print: the merged values and where each came from (text and JSON)', async () => {
    const file = join(CONFIGS, 'echo.yaml');
    const text = await ringmaster(['config', '--print', file, '--port', '5000', '--token', 'sekrit'], { RINGMASTER_LOG_LEVEL: 'debug' });
    expect(text.code, text.stderr).to.equal(0);
    const line = (path: string): string => text.stdout.split('\n').find((l) => l.startsWith(`${path} `)) ?? '';
    expect(line('name')).to.match(/fixture\s+\S*echo\.yaml:2$/);
    expect(line('http.port')).to.match(/5000\s+flag --port$/);
    expect(line('log.level')).to.match(/debug\s+env RINGMASTER_LOG_LEVEL$/);
    expect(line('tree.children[0].config.greeting')).to.match(/hello\s+\S*echo\.yaml:10$/);
    expect(line('system.askTimeoutMs')).to.match(/5000\s+default$/);
    expect(text.stdout).to.not.include('sekrit');

    const json = await ringmaster(['config', '--print', '--json', file, '--no-pretty']);
    const parsed = JSON.parse(json.stdout) as { config: { name: string }; origins: Record<string, string> };
    expect(parsed.config.name).to.equal('fixture');
    expect(parsed.origins).to.include({ 'log.pretty': 'flag --no-pretty', 'http.host': `${file}:15` });
  });

  it('start: prints a summary, serves /health, shows in status, and stops with exit 0 on SIGINT', async () => {
    const run = launch(['start', join(CONFIGS, 'echo.yaml')]);
    const [, url] = await waitFor(run, /listening on (http:\/\/[\d.]+:\d+)/);
    await waitFor(run, /stops it gracefully/);
    expect(run.stderr).to.include("system 'fixture' running: 2 actors started (a, b)");
    expect(run.stderr).to.include(`dashboard at ${url}/`);
    const health = await fetch(`${url}/health`);
    expect(health.status).to.equal(200);
    expect(((await health.json()) as { status: string }).status).to.equal('healthy');

    // The server's sampler needs its second sample (a second after start) before it has a rate to show.
    await until(async () => {
      const tree = (await (await fetch(`${url}/api/tree`)).json()) as { sample: { actors: Record<string, { in: number | null }> } | null };
      return typeof tree.sample?.actors.a?.in === 'number';
    }, 'the first rates');
    const status = await ringmaster(['status', '--url', url!]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/^root\s+running\s/m);
    expect(status.stdout).to.match(/^ {2}a\s+running\s+1\s+0\s+0\s+\d+\.\d/m);
    expect(status.stdout).to.match(/^ {2}b\s+running\s+1\s/m);

    run.child.kill('SIGINT');
    expect(await run.exit).to.equal(0);
    expect(run.stderr).to.include('SIGINT: stopping gracefully');
  });

  it('start: applies an edited file live, rejects an invalid one, counts both in /metrics, and rolls back on request', async () => {
    const file = join(dir, 'live.yaml');
    const write = (greeting: string, extra = ''): void =>
      writeFileSync(file, `tree:\n  id: root\n  strategy: one_for_one\n  children:\n    - id: a\n      module: ${actors('echo')}\n      config: { greeting: ${greeting} }\n${extra}http: { port: 0, token: t0k }\nlog: { level: silent }\n`);
    write('hello');
    const run = launch(['start', file]);
    const [, url] = await waitFor(run, /listening on (http:\/\/[\d.]+:\d+)/);
    const greeting = async (): Promise<unknown> => {
      const tree = (await (await fetch(`${url}/api/tree`)).json()) as { tree: { children: Array<{ config: { greeting: string } }> } };
      return tree.tree.children[0]!.config.greeting;
    };
    const reloads = async (result: string): Promise<number> => {
      const m = new RegExp(`ringmaster_config_reloads_total\\{result="${result}"[^}]*\\} (\\d+)`).exec(await (await fetch(`${url}/metrics`)).text());
      return Number(m?.[1] ?? NaN);
    };
    write('bye');
    await until(async () => (await greeting()) === 'bye', 'the edit to be applied');
    write('again', '      restart: sometimes\n');
    await until(async () => (await reloads('rejected')) >= 1, 'the invalid edit to be rejected');
    expect(await greeting()).to.equal('bye');
    expect(await reloads('applied')).to.equal(1);
    const post = await fetch(`${url}/api/config/reload`, { method: 'POST', headers: { authorization: 'Bearer t0k' } });
    expect(post.status).to.equal(200);
    expect(((await post.json()) as { result: { status: string } }).result.status).to.equal('unchanged');
    const versions = (await (await fetch(`${url}/api/config/versions`)).json()) as { current: number };
    expect(versions.current).to.equal(2);
    const refused = await ringmaster(['config', 'rollback', '1', '--url', url!, '--token', 'wrong']);
    expect(refused.code).to.equal(1);
    const rolled = await ringmaster(['config', 'rollback', '1', '--url', url!, '--token', 't0k']);
    expect(rolled.code, rolled.stderr).to.equal(0);
    expect(await greeting()).to.equal('hello');
    run.child.kill('SIGTERM');
    expect(await run.exit).to.equal(0);
  });

  it('start: exits non-zero with the reason when the system stops by itself', async () => {
    const module = join(dir, 'quitter.js');
    writeFileSync(module, `import { defineActor } from ${JSON.stringify(INDEX)};\nexport default defineActor({ init: () => { setTimeout(() => process.exit(3), 200); return {}; }, receive: (_s, m) => m });\n`);
    writeFileSync(join(dir, 'quits.yaml'), `tree:\n  id: root\n  strategy: one_for_one\n  intensity: 0\n  children:\n    - id: quitter\n      module: ./quitter.js\nlog: { level: silent }\n`);
    const run = launch(['start', join(dir, 'quits.yaml')]);
    expect(await run.exit).to.equal(1);
    expect(run.stderr).to.match(/the system stopped by itself: escalated/);
  });

  it('status and rollback: a clear error and exit 1 when nothing listens at the URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const p = (server.address() as { port: number }).port;
        server.close(() => resolve(p));
      });
    });
    const status = await ringmaster(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(status.code).to.equal(1);
    expect(status.stderr).to.include(`nothing is listening at http://127.0.0.1:${port}`);
    const rollback = await ringmaster(['config', 'rollback', '--url', `http://127.0.0.1:${port}`, '--token', 't']);
    expect(rollback.code).to.equal(1);
    expect(rollback.stderr).to.include('connection refused');
  });
});
