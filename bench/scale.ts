/**
 * Scale benchmark: many actors on few cores, each topology beside the same
 * topology built on plain worker threads wired port to port with
 * MessageChannels, in the same run. Prints a table and writes
 * bench/results/scale.json. Run with `npm run bench:scale`.
 *
 * Topologies (ringmaster: ActorSystem.start, every node a defineActor actor
 * with the defaults a user gets; postMessage: as many workers, one
 * MessageChannel per pair of nodes that talk):
 *   fan-in        SCALE_FANIN_SENDERS senders (100) → 1 receiver, each sender
 *                 SCALE_FANIN_MESSAGES messages (500) flat out per run
 *   pipeline      SCALE_PIPELINE_STAGES stages (20): the first makes
 *                 SCALE_PIPELINE_MESSAGES messages (10000) flat out, each
 *                 stage forwards to the next, the last records them
 *   random-pairs  SCALE_RANDOM_ACTORS actors (200), each with SCALE_RANDOM_PEERS
 *                 peers (10) picked at random once; each message goes to one
 *                 of them at random, SCALE_RANDOM_RATE msgs/s in all (50000),
 *                 paced, for SCALE_RANDOM_SECONDS s (2) per run
 *   random-pairs-max  the same actors and peers, each sending its share of a
 *                 run's messages (rate × seconds / actors, 500) flat out: what
 *                 the machine delivers at most, where the paced run can only
 *                 say whether it keeps up with the offered rate
 * Other settings:
 *   SCALE_RUNS          recorded runs per topology and side (3)
 *   SCALE_WARMUPS       unrecorded runs before them, of the same size (at least 3);
 *                       the first random-pairs one instead sends one message
 *                       from every actor to each of its peers, which wires
 *                       every pair
 *   SCALE_WARMUP_S      and warm-ups go on for at least this long (5) …
 *   SCALE_WARMUP_MAX_S  … and then until the side is steady (its last 5
 *                       warm-ups set no delivered rate more than 10 % above
 *                       the best before them), but no longer than this (120),
 *                       the same rule for both sides: every worker's V8
 *                       JIT-compiles the hot path for itself, and ringmaster's
 *                       is JavaScript (postMessage's mostly native), so 100
 *                       fan-in senders of 500 messages a run take some 20 runs
 *                       to reach their steady rate (bench/lib/scale-run.ts).
 *                       The first full-size run is reported too, as `cold`:
 *                       what a system delivers before its JIT warmed up
 *   SCALE_RUN_TIMEOUT_MS longest one run may take to deliver everything (60000)
 *   SCALE_LIMIT_S       longest the whole benchmark may take (1800)
 *   SCALE_SPIN_MICROS   the ringmaster systems' transport.spin.micros (0 = 'off') (unset: the default
 *                       a user gets; 0 allowed)
 *
 * Figures per side are medians over the runs: delivered msgs/s (messages
 * recorded / time from 'go' to the last one recorded), end-to-end latency
 * p50/p99 in µs (stamped with performance.timeOrigin + performance.now() when
 * the message is handed to the transport, read the same way when recorded),
 * CPU µs per delivered message (process.cpuUsage, every thread, over the
 * run / delivered) and RSS MB per actor ((RSS after start − RSS before) /
 * nodes, each after a full GC).
 *
 * In the flat-out topologies a run's messages are all handed over at once, so
 * their latency is mostly time queued behind the others: it shows how deep
 * the queues get, not what one hop costs. Random-pairs is paced; its latency
 * stays near one hop's only while the machine keeps up with the offered rate.
 * The sides run one after the other, ringmaster first, each started, warmed
 * up, measured and stopped before the next starts, so neither side's threads
 * add to the other's CPU or RSS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeStalls } from './lib/machine.js';
import { runBench } from './lib/peer.js';
import { check, fmtInt, table } from './lib/report.js';
import { runScale, type ScalePlan, type SideResult } from './lib/scale-run.js';

/** Compiled to dist/bench/; results belong in the source tree's bench/results/. */
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/scale.json');

function env(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return v;
}

const whole = (name: string, fallback: number): number => {
  const v = env(name, fallback);
  if (!Number.isInteger(v)) throw new Error(`${name} must be a whole number, got ${v}`);
  return v;
};

/** SCALE_SPIN_MICROS: a whole number of µs, 0 included; unset leaves the system default. */
function spinMicros(): number | undefined {
  const raw = process.env.SCALE_SPIN_MICROS;
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new Error(`SCALE_SPIN_MICROS must be a whole number of µs, 0 or more, got ${JSON.stringify(raw)}`);
  return v;
}

const PLAN: ScalePlan = {
  fanIn: { senders: whole('SCALE_FANIN_SENDERS', 100), perSender: whole('SCALE_FANIN_MESSAGES', 500) },
  pipeline: { stages: whole('SCALE_PIPELINE_STAGES', 20), messages: whole('SCALE_PIPELINE_MESSAGES', 10_000) },
  random: { actors: whole('SCALE_RANDOM_ACTORS', 200), peers: whole('SCALE_RANDOM_PEERS', 10), ratePerSec: env('SCALE_RANDOM_RATE', 50_000), seconds: env('SCALE_RANDOM_SECONDS', 2) },
  runs: whole('SCALE_RUNS', 3),
  warmUps: whole('SCALE_WARMUPS', 3),
  warmUpMs: env('SCALE_WARMUP_S', 5) * 1000,
  warmUpMaxMs: env('SCALE_WARMUP_MAX_S', 120) * 1000,
  runTimeoutMs: whole('SCALE_RUN_TIMEOUT_MS', 60_000),
  settleMs: 300,
  spinMicros: spinMicros(),
};
const LIMIT_MS = env('SCALE_LIMIT_S', 1800) * 1000;

/** The targets: ringmaster's delivered rate ≥ 1.5× postMessage's, p99 no worse, CPU per message ≤ 1.5×. */
const TARGET = { delivered: 1.5, p99: 1, cpu: 1.5 };

const f2 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function main(): Promise<void> {
  const started = performance.now();
  const log = (s: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${s}`);
  log('machine: two busy-waiting threads for 1 s …');
  const stalls = await probeStalls(2, 1_000);
  const r = await runScale(PLAN, log);
  log('done');

  const row = (topology: string, name: string, s: SideResult): string[] => [
    topology,
    name,
    `${s.actors}`,
    fmtInt(s.deliveredPerSec),
    f2(s.p50Us),
    f2(s.p99Us),
    f2(s.cpuUsPerMsg),
    f2(s.rssPerActorMb),
    s.runs.map((x) => fmtInt(x.deliveredPerSec)).join(' '),
    `${fmtInt(s.cold.deliveredPerSec)}${s.steady ? '' : ' (not steady)'}`,
    `${s.warmUps.length}`,
  ];
  console.log(`\nnode ${r.node}, ${r.cpus} CPUs; medians of ${r.runs} runs`);
  console.log(
    table([
      ['topology', 'side', 'threads', 'delivered msgs/s', 'p50 µs', 'p99 µs', 'CPU µs/msg', 'RSS MB/actor', 'delivered/s per run', 'cold run delivered/s', 'warm-ups'],
      ...r.results.flatMap((t) => [row(t.topology, 'ringmaster', t.ringmaster), row('', 'postMessage', t.postMessage)]),
    ]),
  );
  console.log(`\nstart ${r.startActors}: ringmaster ${(r.startMs200 / 1000).toFixed(2)} s, bare workers ${(r.bareStartMs200 / 1000).toFixed(2)} s (×${(r.startMs200 / r.bareStartMs200).toFixed(1)})`);
  console.log('targets (ringmaster against postMessage, same run):');
  for (const t of r.results) {
    const q = t.ratios;
    console.log(check(`${t.topology} delivered ≥ ${TARGET.delivered}×`, q.deliveredPerSec >= TARGET.delivered, `×${q.deliveredPerSec}`));
    console.log(check(`${t.topology} p99 ≤ postMessage's`, q.p99Us <= TARGET.p99, `×${q.p99Us} (${f2(t.ringmaster.p99Us)} vs ${f2(t.postMessage.p99Us)} µs)`));
    console.log(check(`${t.topology} CPU/msg ≤ ${TARGET.cpu}×`, q.cpuUsPerMsg <= TARGET.cpu, `×${q.cpuUsPerMsg}`));
  }
  const crashes = r.results.reduce((s, t) => s + t.ringmaster.crashes, 0);
  const other = Object.fromEntries(r.results.flatMap((t) => [[`${t.topology}/ringmaster`, t.ringmaster.otherLoadPct], [`${t.topology}/postMessage`, t.postMessage.otherLoadPct]]));
  console.log(`actor crashes: ${crashes}; machine: ${stalls.stalls} stalls > 50 µs in 2×1 s of busy-waiting (longest ${stalls.maxStallMs} ms); other processes' share (%): ${JSON.stringify(other)}`);

  const out = {
    ...r,
    targets: TARGET,
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', totalMemMb: Math.round(totalmem() / 2 ** 20), stalls },
    plan: PLAN,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
}

runBench('scale', main, LIMIT_MS);
