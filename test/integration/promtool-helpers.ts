import { spawn, spawnSync } from 'node:child_process';

export const INSTALL_HINT = "promtool is not installed: install Debian's `prometheus` package (apt-get install --no-install-recommends prometheus)";

export function havePromtool(): boolean {
  const probe = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

/** Without promtool: fail under CI (it must have it), otherwise say what to install and skip. */
export function needPromtool(ctx: Mocha.Context): void {
  if (havePromtool()) return;
  if (process.env.CI === 'true') throw new Error(`${INSTALL_HINT}; CI must have it`);
  console.log(`      skipped: ${INSTALL_HINT}`);
  ctx.skip();
}

/** Feed `text` to `promtool check metrics` on stdin; resolves with its exit code and everything it printed. */
export function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
