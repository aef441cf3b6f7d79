import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ActorSystem, loadConfig, parseAlertRules, toPrometheusRules, type ConfiguredSystem, type SystemEvent } from '../../src/index.js';
import { needPromtool } from './promtool-helpers.js';
import { actors, until } from './system-helpers.js';

describe('alerts (a real system, a real webhook receiver)', function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  let system: ConfiguredSystem | null = null;
  let server: Server | null = null;
  const posts: Array<{ status: number; body: { type: string; alert: string } }> = [];

  const yaml = (hook: string, alerts: string): string =>
    [
      'name: alerting',
      'tree:',
      '  id: root',
      '  strategy: one_for_one',
      '  intensity: 1000',
      '  period: 60000',
      '  children:',
      '    - id: loop',
      `      module: ${relative(dir, actors('crasher'))}`,
      '      backoff: { min: 0, max: 0 }',
      'http:',
      '  port: 0',
      'log:',
      '  level: silent',
      'alertInterval: 100ms',
      alerts.replaceAll('HOOK', hook),
    ].join('\n');
  const crashloop = [
    'alerts:',
    '  - name: loop-crashing',
    '    when: { restarts: { actor: loop, over: 2, within: 3s } }',
    '    severity: critical',
    '    notify: [log, { webhook: HOOK, retries: 3, timeoutMs: 5000 }]',
  ].join('\n');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-alerts-'));
    file = join(dir, 'ringmaster.yaml');
    posts.length = 0;
    // Answers 500 to the first POST (the notifier retries), 200 after.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const status = posts.length === 0 ? 500 : 200;
        posts.push({ status, body: JSON.parse(body) as { type: string; alert: string } });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    await system?.stop();
    system = null;
    await new Promise((r) => server?.close(r));
    server = null;
    rmSync(dir, { recursive: true, force: true });
  });

  const hook = (): string => `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`;

  it('a crash-looping actor fires a restarts rule (webhook retried after a 500, /api/alerts says firing), which resolves once the crashes stop', async () => {
    writeFileSync(file, yaml(hook(), crashloop));
    system = await ActorSystem.fromConfig(file, { watch: false });
    const s = system;
    const events: SystemEvent[] = [];
    s.on('*', (e) => events.push(e));
    for (let i = 1; i <= 4; i++) {
      s.ref('loop').tell({ op: 'throw' });
      await until(() => s.status().find((a) => a.id === 'loop' && a.restarts >= i && a.state === 'running'), `restart ${i}`, 30_000);
    }
    const firing = await until(() => events.find((e) => e.type === 'alert-firing'), 'alert-firing', 30_000);
    expect(firing).to.include({ alert: 'loop-crashing', severity: 'critical', actor: 'loop' });
    const api = (await (await fetch(`${s.http!.url}/api/alerts`)).json()) as { alerts: Array<{ name: string; state: string; value: number }> };
    const listed = api.alerts.find((a) => a.name === 'loop-crashing');
    expect(listed?.state).to.be.oneOf(['firing', 'inactive']); // inactive only if the window already slid past on a slow machine
    await until(() => posts.some((p) => p.status === 200 && p.body.type === 'alert-firing'), 'the webhook delivery after its retry', 30_000);
    expect(posts[0]).to.deep.include({ status: 500 });
    expect(posts[0]!.body).to.include({ type: 'alert-firing', alert: 'loop-crashing' });
    await until(() => events.find((e) => e.type === 'alert-resolved'), 'alert-resolved', 30_000);
    await until(() => posts.some((p) => p.body.type === 'alert-resolved'), 'the resolved notice', 30_000);
    const after = (await (await fetch(`${s.http!.url}/api/alerts`)).json()) as { alerts: Array<{ name: string; state: string }> };
    expect(after.alerts.find((a) => a.name === 'loop-crashing')?.state).to.equal('inactive');
  });

  it('hot reload: a firing rule removed from the file resolves', async () => {
    const always = ['alerts:', '  - name: always', '    when: { metric: inboxDepth, actor: loop, op: ">=", value: 0 }', '    severity: info'].join('\n');
    writeFileSync(file, yaml(hook(), always));
    system = await ActorSystem.fromConfig(file, { watch: false });
    const s = system;
    const events: SystemEvent[] = [];
    s.on('*', (e) => events.push(e));
    await until(() => s.alerts.list().find((a) => a.state === 'firing'), 'the rule firing', 30_000);
    writeFileSync(file, yaml(hook(), 'alerts: []'));
    const outcome = await s.config.reload();
    expect(outcome.status).to.equal('applied');
    await until(() => events.find((e) => e.type === 'alert-resolved' && e.alert === 'always'), 'alert-resolved', 30_000);
    expect(s.alerts.list()).to.deep.equal([]);
  });

  it('promtool check rules accepts the exported rules file', async function () {
    needPromtool(this);
    const rules = [
      crashloop,
      '  - name: deep-inbox',
      '    when: { metric: inboxDepth, op: ">", value: 1000, for: 30s }',
      '    severity: warning',
      '  - name: hot',
      '    when: { metric: cpuPct, actor: loop, op: ">=", value: 90, for: 1m }',
      '    severity: info',
      '  - name: degraded',
      '    when: { health: degraded, for: 10s }',
      '    severity: warning',
    ].join('\n');
    writeFileSync(file, yaml(hook(), rules));
    const loaded = await loadConfig(file, { checkModules: false, env: {} });
    const out = toPrometheusRules(parseAlertRules(loaded.config.alerts), loaded.config.name);
    expect(out.skipped).to.deep.equal([]);
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, out.yaml);
    const check = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).to.equal(0);
    expect(check.stdout).to.match(/SUCCESS: 4 rules found/);
  });
});
