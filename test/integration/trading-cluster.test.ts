import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsServer, needNatsServer } from '../helpers/nats-server.js';

const LAUNCHER = new URL('../../examples/trading/cluster.js', import.meta.url).pathname;

/** Run `npm run start:cluster`'s launcher to its end; what it printed and its exit code. */
function runCluster(env: Record<string, string>, limitMs: number): Promise<{ out: string; code: number | null }> {
  const p = spawn(process.execPath, [LAUNCHER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    // Past the limit: the stop that Ctrl-C makes, and if even that hangs, SIGKILL.
    const timer = setTimeout(() => p.kill('SIGINT'), limitMs);
    const last = setTimeout(() => p.kill('SIGKILL'), limitMs + 20_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      clearTimeout(last);
      resolve({ out, code });
    });
  });
}

/** The numbers of the desk's balance line. */
function balance(out: string): { sent: number; filled: number; rejected: number; dead: number; lost: number } {
  const m = /\[desk\] balanced across (\d) nodes: (\d+) sent = (\d+) filled \+ (\d+) rejected \+ (\d+) dead-lettered(?: \+ (\d+) lost with a killed node)? ✓/.exec(out);
  expect(m, `no balance line in:\n${out.slice(-3000)}`).to.not.equal(null);
  const [, , sent, filled, rejected, dead, lost] = m!;
  return { sent: Number(sent), filled: Number(filled), rejected: Number(rejected), dead: Number(dead), lost: Number(lost ?? 0) };
}

describe('npm run start:cluster: the trading example as node processes on a real nats-server', function () {
  this.timeout(180_000);
  let server: NatsServer;
  let dir = '';
  before(async function () {
    needNatsServer(this);
    server = await NatsServer.start({ jetstream: false });
  });
  after(async () => {
    await server?.dispose();
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-trading-cluster-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('two nodes trade, drain and print a summary that balances across them', async () => {
    const { out, code } = await runCluster({ NATS_URL: server.url, TRADING_CLUSTER_NODES: '2', RINGMASTER_DEMO_SECONDS: '4', TRADING_DATA_DIR: dir }, 120_000);
    expect(out).to.match(/\[orders\] up: risk, execution/);
    expect(out).to.match(/\[desk\] up: ledger, portfolio, indicator, strategy, feed/);
    const b = balance(out);
    expect(b.sent).to.be.greaterThan(0);
    expect(b.sent).to.equal(b.filled + b.rejected + b.dead);
    expect(b.lost).to.equal(0);
    expect(code).to.equal(0);
  });

  it('three nodes, one killed mid-run: the others see it down, it is started again and rejoins, and the summary still balances', async () => {
    const { out, code } = await runCluster({ NATS_URL: server.url, RINGMASTER_DEMO_SECONDS: '8', TRADING_KILL: 'book', TRADING_KILL_AFTER: '3', TRADING_DATA_DIR: dir }, 150_000);
    expect(out).to.match(/\[launcher\] SIGKILL node book \(pid \d+\)/);
    expect(out).to.match(/\[desk\] ▼ node book down \((timeout|restarted)\)/);
    expect(out.match(/\[book\] up: portfolio/g), 'book started twice').to.have.length(2);
    // back up after its restart, seen by the desk
    expect(out.slice(out.search(/\[desk\] ▼ node book down/))).to.match(/\[desk\] ▲ node book up/);
    const b = balance(out);
    expect(b.sent).to.equal(b.filled + b.rejected + b.dead + b.lost);
    expect(b.lost, 'the portfolio holds no orders: none is lost with it').to.equal(0);
    expect(code).to.equal(0);
  });
});
