import { expect } from 'chai';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, loadConfig, parseAlertRules, toPrometheusRules, type ConfiguredSystem } from '../../src/index.js';
import { Processes } from './cli-helpers.js';
import { actors, until } from './system-helpers.js';

const RULES = [
  'alerts:',
  '  - name: backlog',
  '    when: { metric: inboxDepth, actor: a, op: ">=", value: 0 }',
  '    severity: info',
  '  - name: crash-loop',
  '    when: { restarts: { over: 1000, within: 1m } }',
  '    severity: critical',
  '  - name: a-sick',
  '    when: { health: degraded, actor: a }',
  '    severity: warning',
].join('\n');

describe('ringmaster alerts (real processes, a real system)', function () {
  this.timeout(60_000);
  const processes = new Processes();
  let dir: string;
  let file: string;
  let system: ConfiguredSystem | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-cli-alerts-'));
    file = join(dir, 'alerting.yaml');
    writeFileSync(
      file,
      ['name: alerting', 'tree:', '  id: root', '  strategy: one_for_one', '  children:', '    - id: a', `      module: ${actors('echo')}`, 'http: { port: 0 }', 'log: { level: silent }', 'alertInterval: 50ms', RULES, ''].join('\n'),
    );
  });
  afterEach(async () => {
    await processes.killAll();
    await system?.stop();
    system = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a running system’s rules, firing first, each with its state, severity and condition', async () => {
    system = await ActorSystem.fromConfig(file, { watch: false });
    const s = system;
    await until(() => s.alerts.list().find((a) => a.name === 'backlog' && a.state === 'firing'), 'the backlog rule firing');
    const url = s.http!.url;
    const r = await processes.ringmaster(['alerts', '--url', url]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).to.equal(`system 'alerting' at ${url}: 3 alert rules, 1 firing`);
    expect(lines[1]).to.match(/^RULE\s+STATE\s+SEVERITY\s+SINCE\s+VALUE\s+CONDITION$/);
    const rows = lines.slice(2).map((l) => l.split(/\s{2,}|\s(?=\S)/).filter(Boolean));
    expect(rows.map((row) => row.slice(0, 3))).to.deep.equal([
      ['backlog', 'firing', 'info'],
      ['crash-loop', 'inactive', 'critical'],
      ['a-sick', 'inactive', 'warning'],
    ]);
    expect(lines[2]).to.match(/ \d+s ago +0 {2}inboxDepth of a >= 0$/);
    // A rule over any actor names the actor its value is of, in words that cannot be read as a state.
    expect(lines[3]).to.match(/ - +0 {2}restarts of any actor > 1000 within 60000 ms \(value of actor a\)$/);
    expect(r.stdout).to.not.include('(now ');
    expect(lines[4]).to.match(/ - +0 {2}health of a degraded or worse$/);
  });

  it('says why and exits 1 when nothing answers at the URL', async () => {
    const port = await freePort();
    const r = await processes.ringmaster(['alerts', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(new RegExp(`^ringmaster alerts: .*127\\.0\\.0\\.1:${port}`));
  });

  it('--prometheus: prints the file’s rules as a Prometheus rules file and names each rule it skipped on stderr', async () => {
    const r = await processes.ringmaster(['alerts', '--prometheus', file]);
    expect(r.code, r.stderr).to.equal(0);
    const loaded = await loadConfig(file, { checkModules: false, env: {} });
    const expected = toPrometheusRules(parseAlertRules(loaded.config.alerts), 'alerting');
    expect(r.stdout).to.equal(`${expected.yaml.trimEnd()}\n`);
    expect(r.stdout).to.match(/- alert: backlog\n/);
    expect(r.stdout).to.match(/- alert: crash_loop\n(.*\n)*? +rule: crash-loop\n/); // a Prometheus name, the rule's own as a label
    expect(r.stdout).to.not.match(/- alert: a-sick\n/);
    expect(r.stderr).to.equal("ringmaster alerts: rule 'a-sick' skipped: the health of one actor (its health hook) is not among the exported metrics\n");
  });

  it('--prometheus: refuses --url beside it (exit 2), a file that is not there (exit 2, naming it), and a file without --prometheus (exit 2, saying which way is which)', async () => {
    const both = await processes.ringmaster(['alerts', '--prometheus', file, '--url', 'http://127.0.0.1:1']);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.match(/^ringmaster alerts: --prometheus <file> reads a config file, --url asks a running system: give one of them/);
    const missing = join(dir, 'nope.yaml');
    const gone = await processes.ringmaster(['alerts', '--prometheus', missing]);
    expect(gone.code).to.equal(2);
    expect(gone.stderr).to.include(`cannot read ${missing}: no such file`);
    // A config file given without --prometheus: the two ways, named.
    const bare = await processes.ringmaster(['alerts', file]);
    expect(bare.code).to.equal(2);
    expect(bare.stderr.split('\n')[0]).to.equal(`ringmaster alerts: unexpected argument '${file}': --url <url> asks a running system for its alerts, --prometheus <file> exports a config file's rules`);
  });
});

/** A port nothing listens on: bound for a moment by this process, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
