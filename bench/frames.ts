/**
 * Frame costs: ns per message for each step of the data plane's hot path,
 * measured on one thread (bench/lib/frame-costs.ts). Prints a table and
 * writes bench/results/frames.json. Run with `npm run bench:frames`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAME_COST_PLAN, frameCosts } from './lib/frame-costs.js';
import { runBench } from './lib/peer.js';
import { table } from './lib/report.js';

/** Compiled to dist/bench/; results belong in the source tree's bench/results/. */
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/frames.json');

async function main(): Promise<void> {
  const steps = await frameCosts(FRAME_COST_PLAN);
  console.log(`node ${process.version}; ns per message in the fastest of ${FRAME_COST_PLAN.batches} batches of ${FRAME_COST_PLAN.batch}, one thread\n`);
  console.log(table([['step', 'ns/msg', 'frame bytes'], ...steps.map((s) => [s.step, s.ns.toFixed(0), s.frameBytes === undefined ? '' : String(s.frameBytes)])]));
  const out = { node: process.version, date: new Date().toISOString(), plan: FRAME_COST_PLAN, steps };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
}

runBench('frames', main, 120_000);
