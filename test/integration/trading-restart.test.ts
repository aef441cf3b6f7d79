import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Processes, type Run } from './cli-helpers.js';

/** `npm start` itself: the example's entry point with trading.yaml, its journal moved into a folder of the test's own. */
const TRADING = fileURLToPath(new URL('../../examples/trading/main.js', import.meta.url));

/** Resolves with the match once stdout shows `pattern`; rejects if the process exits first. */
function onStdout(run: Run, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = pattern.exec(run.stdout);
      if (!m) return;
      run.child.stdout!.off('data', check);
      resolve(m);
    };
    run.child.stdout!.on('data', check);
    void run.exit.then((code) => reject(new Error(`exited (${code}) before printing ${pattern}:\n${run.stdout}\n${run.stderr}`)));
    check();
  });
}

/** The closing summary's ledger lines as numbers. */
function ledgerOf(stdout: string): Record<'sent' | 'filled' | 'rejected' | 'dead-lettered' | 'interrupted' | 'unaccounted', number> {
  const sent = /ledger \(persistent: [^)]*\): (\d+) orders sent/.exec(stdout);
  expect(sent, stdout).to.not.equal(null);
  const line = (name: string): number => Number(new RegExp(`^  ${name}\\s+(\\d+)`, 'm').exec(stdout)?.[1] ?? 0);
  return { sent: Number(sent![1]), filled: line('filled'), rejected: line('rejected'), 'dead-lettered': line('dead-lettered'), interrupted: line('interrupted'), unaccounted: line('unaccounted') };
}

describe('trading example: npm start, SIGKILL, npm start again', function () {
  // Two runs of the example with its faults on: ~15 s on a quiet machine.
  this.timeout(120_000);
  const processes = new Processes();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-trading-restart-'))));
  afterEach(async () => {
    await processes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries the ledger and the portfolio over a killed process, and the second summary still balances', async () => {
    const env = { RINGMASTER_PERSISTENCE_PATH: join(dir, 'trading.db'), RINGMASTER_HTTP_PORT: '0', RINGMASTER_LOG_LEVEL: 'fatal' };
    const first = processes.launch([TRADING], env, { file: process.execPath });
    // Two status lines with orders in them, then kill it mid-traffic: no drain, no summary.
    const [, seen] = await onStdout(first, /\[\s*\d+s\] ticks \d+ · orders ([1-9]\d*):[^\n]*\n[^\n]*\[\s*\d+s\] ticks \d+ · orders \d+/);
    first.child.kill('SIGKILL');
    expect(await first.exit).to.equal(null);
    expect(first.stdout).to.not.include('ledger (');

    const second = processes.launch([TRADING], { ...env, RINGMASTER_DEMO_SECONDS: '3' }, { file: process.execPath });
    expect(await second.exit, `${second.stdout}\n${second.stderr}`).to.equal(0);
    expect(second.stdout).to.include('ledger (persistent: the 2 runs so far');
    const l = ledgerOf(second.stdout);
    // Everything the first run showed was durable before it was shown, so the second run counts it too.
    expect(l.sent).to.be.greaterThan(Number(seen));
    expect(l.unaccounted).to.equal(0);
    expect(l.sent).to.equal(l.filled + l.rejected + l['dead-lettered'] + l.interrupted);
    expect(second.stdout).to.include('balanced: every order is filled, rejected, dead-lettered or interrupted ✓');
    expect(second.stdout).to.match(/portfolio \(persistent: every run so far[^)]*\): [1-9]\d* partial fills/);
  });
});
