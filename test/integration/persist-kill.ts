import { spawn } from 'node:child_process';

const CHILD = new URL('../fixtures/persist-child.js', import.meta.url).pathname;

/**
 * Run the depositing child (test/fixtures/persist-child.ts) on `target` (a
 * database file, or a nats:// server) until it has acknowledged `acks` more
 * deposits, then SIGKILL it: how many it recovered at its start, and the last
 * id it acknowledged.
 */
export async function runAndKill(target: string, acks: number): Promise<{ recovered: number; lastAck: number }> {
  const child = spawn(process.execPath, [CHILD, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let recovered = -1;
  let lastAck = 0;
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the child exited by itself (${code ?? signal})`))));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'recovered') recovered = Number(n);
        if (word === 'ack') {
          lastAck = Number(n);
          if (++seen === acks) child.kill('SIGKILL');
        }
      }
    });
  });
  return { recovered, lastAck };
}
