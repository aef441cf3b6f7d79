/**
 * Soak: a seeded chaos run. A random tree of soak actors (bench/lib/soak-tree.ts)
 * takes random traffic from the main thread and between actors while random
 * faults strike, dynamic children come and go and the tree is reloaded; at the
 * end every message with an id must be accounted for. Prints the account and
 * writes bench/results/soak.json; exits 1 when a check fails.
 *
 *   SOAK_SEED          integer; default random (printed, so a run can be replayed)
 *   SOAK_SECONDS       length of the chaos, s (default 60)
 *   SOAK_ACTORS        static actors (default 8)
 *   SOAK_ROUND_SECONDS memory is sampled after each round (default 5)
 *   SOAK_RATE          scales every traffic and fault rate (default 1)
 *   SOAK_SENDER_SLOTS  the system's senderSlots (default 64)
 *   SOAK_LOG_LEVEL     the system's log level (default silent)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench } from './lib/peer.js';
import { freshSeed } from './lib/soak-rng.js';
import { renderSoak } from './lib/soak-report.js';
import { runSoak, type SoakOptions } from './lib/soak-run.js';

/** Compiled to dist/bench/; results belong in the source tree's bench/results/. */
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/soak.json');
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got '${raw}'`);
  return n;
}

function numEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const level = process.env.SOAK_LOG_LEVEL || 'silent';
  if (!(LEVELS as readonly string[]).includes(level)) throw new Error(`SOAK_LOG_LEVEL must be one of ${LEVELS.join(', ')}, got '${level}'`);
  const options: SoakOptions = {
    seed: intEnv('SOAK_SEED', freshSeed(), 0),
    seconds: intEnv('SOAK_SECONDS', 60, 1),
    actors: intEnv('SOAK_ACTORS', 8, 1),
    roundSeconds: intEnv('SOAK_ROUND_SECONDS', 5, 1),
    rate: numEnv('SOAK_RATE', 1),
    senderSlots: intEnv('SOAK_SENDER_SLOTS', 64, 1),
    logLevel: level as SoakOptions['logLevel'],
    progress: (line) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`),
  };
  const t0 = performance.now();
  console.log(`soak: seed ${options.seed}, ${options.seconds} s, ${options.actors} static actors (replay with SOAK_SEED=${options.seed})`);
  const result = await runSoak(options);
  console.log(`\n${renderSoak(result)}`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
  const failed = result.checks.filter((c) => !c.ok);
  console.log(failed.length ? `\n${failed.length} of ${result.checks.length} checks failed (seed ${result.seed})` : `\nall ${result.checks.length} checks passed (seed ${result.seed})`);
  if (failed.length) process.exitCode = 1;
}

// The chaos, the settling (asks up to 10 s, then up to 30 s more) and the stop: a run past this has hung.
const limitMs = (Number(process.env.SOAK_SECONDS) || 60) * 1000 + 180_000;
runBench('soak', main, limitMs);
