/**
 * What one wake-up of a sleeping thread costs: two worker threads hand a
 * turn back and forth, each sleeping until the other wakes it, three ways
 * (a MessagePort message, Atomics.waitAsync, a blocking Atomics.wait). Prints
 * the process's CPU and the wall time per hop, medians of 3 rounds, and
 * writes bench/results/wake.json. Run with `npm run bench:wake`.
 *
 * This is the floor under any receiver that parks between messages: it is
 * why a receiver spins when its next message is near, and what a topology
 * of many mostly idle actors pays per message whatever the transport.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { runBench } from './lib/peer.js';
import { table } from './lib/report.js';
import type { WakeMode, WakeData } from './workers/wake-peer.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/wake.json');
const PEER = new URL('./workers/wake-peer.js', import.meta.url);
const HOPS = Number(process.env.WAKE_HOPS ?? 40_000);
const MODES: WakeMode[] = ['port', 'waitAsync', 'wait'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function round(mode: WakeMode): Promise<{ cpuUsPerHop: number; wallUsPerHop: number }> {
  const sab = new SharedArrayBuffer(8);
  const { port1, port2 } = new MessageChannel();
  const rounds = HOPS / 2;
  const workers = [port1, port2].map((port, me) => {
    const data: WakeData = { sab, me, rounds, mode, port };
    return new Worker(PEER, { workerData: data, transferList: [port] });
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(workers.map((w) => new Promise((r, j) => w.once('message', r).once('error', j))));
  const wall = (performance.now() - t0) * 1000;
  const c = process.cpuUsage(c0);
  await Promise.all(workers.map((w) => w.terminate()));
  return { cpuUsPerHop: (c.user + c.system) / HOPS, wallUsPerHop: wall / HOPS };
}

async function main(): Promise<void> {
  const runs = new Map<WakeMode, { cpu: number[]; wall: number[] }>(MODES.map((m) => [m, { cpu: [], wall: [] }]));
  for (let i = 0; i < 3; i++) {
    for (const mode of MODES) {
      const r = await round(mode);
      runs.get(mode)!.cpu.push(r.cpuUsPerHop);
      runs.get(mode)!.wall.push(r.wallUsPerHop);
    }
  }
  const results = MODES.map((mode) => {
    const r = runs.get(mode)!;
    return { mode, cpuUsPerHop: Number(median(r.cpu).toFixed(2)), wallUsPerHop: Number(median(r.wall).toFixed(2)) };
  });
  console.log(`node ${process.version}; ${HOPS} hops between two threads, each asleep until woken; medians of 3\n`);
  console.log(table([['wake-up by', 'CPU µs/hop (process)', 'wall µs/hop'], ...results.map((r) => [r.mode, r.cpuUsPerHop.toFixed(1), r.wallUsPerHop.toFixed(1)])]));
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify({ node: process.version, date: new Date().toISOString(), hops: HOPS, results }, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
}

runBench('wake', main, 120_000);
