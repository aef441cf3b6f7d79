/**
 * Cluster benchmark: a remote ask and tell between two ringmaster nodes in
 * two processes of this machine, over a nats-server the benchmark starts on
 * a free port, beside raw NATS request/reply and publish of the same tick
 * (@nats-io/transport-node, same server, same two processes, in the same
 * run), and beside a local ring ask for scale. This process is node `a`;
 * bench/lib/cluster-node.ts is node `b`, which hosts the `sink` actor and
 * the raw NATS far end. Three runs; medians and same-run ratios. Prints a
 * table and writes bench/results/cluster.json. Run with `npm run bench:cluster`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { Packr, Unpackr } from 'msgpackr';
import { ActorSystem } from '../src/index.js';
import { haveNatsServer, NATS_INSTALL_HINT, NatsServer } from '../test/helpers/nats-server.js';
import { measureWay, RAW, type ClusterPlan, type CpuProbe, type Ends, type Way, type WayMeasurement } from './lib/cluster-bench.js';
import { withOtherLoad } from './lib/machine.js';
import { runBench } from './lib/peer.js';
import { check, fmtInt, table } from './lib/report.js';
import { round2 } from './lib/stats.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/cluster.json');
const FAR = new URL('./lib/cluster-node.js', import.meta.url).pathname;
const SINK = new URL('./actors/cluster-sink.js', import.meta.url).pathname;
const RUNS = 3;
const NAME = 'bench';

const PLAN: ClusterPlan = { rttWarm: 1_000, rttCount: 5_000, floodWarm: 10_000, floodCount: 50_000, batch: 500, floodLimitMs: 60_000 };

interface Row {
  way: Way;
  rttUs: { p50: number; p99: number };
  throughputPerSec: number;
  /** Medians of the runs: CPU of node a (this process) and node b per message, µs. */
  cpuUsPerMessage: { tell: { a: number; b: number }; ask: { a: number; b: number } };
}

function farNode(url: string): { proc: ChildProcess; up: Promise<void> } {
  const proc = spawn(process.execPath, [...process.execArgv, FAR, url, NAME], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const up = new Promise<void>((res, rej) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^up$/m.test(out)) res();
    });
    proc.once('exit', (code, signal) => rej(new Error(`the far node exited (${code ?? signal}): ${out}`)));
  });
  return { proc, up };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (!haveNatsServer()) {
    console.log(`skipped: ${NATS_INSTALL_HINT}`);
    return;
  }
  const server = await NatsServer.start({ jetstream: false });
  const far = farNode(server.url);
  let system: ActorSystem | null = null;
  const nc = await connect({ servers: server.url, name: 'bench raw near end' });
  try {
    system = await ActorSystem.start({
      name: NAME,
      log: { level: 'warn' },
      cluster: { node: 'a', servers: server.url },
      tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'local', module: SINK }] },
    });
    await far.up;
    const sys = system;
    const deadline = Date.now() + 30_000;
    while (sys.ref('sink').node !== 'b') {
      if (Date.now() > deadline) throw new Error('node b was not seen within 30 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const packr = new Packr({ useRecords: false });
    const unpackr = new Unpackr({ useRecords: false });
    const ref = (id: string): Ends => {
      const r = sys.ref(id);
      return { ask: (m) => r.ask(m), tell: (m) => r.tell(m), count: async () => (await r.ask({ op: 'count' })) as number };
    };
    const raw: Ends = {
      ask: async (m) => unpackr.unpack((await nc.request(RAW.request, packr.pack(m), { timeout: 5000 })).data),
      tell: (m) => nc.publish(RAW.publish, packr.pack(m)),
      count: async () => unpackr.unpack((await nc.request(RAW.count, undefined, { timeout: 5000 })).data) as number,
    };
    const cpu: CpuProbe = async () => {
      const far = unpackr.unpack((await nc.request(RAW.cpu, undefined, { timeout: 5000 })).data) as number;
      const u = process.cpuUsage();
      return { near: u.user + u.system, far };
    };
    const ways: Array<[Way, Ends]> = [
      ['ringmaster-remote', ref('sink')],
      ['nats-raw', raw],
      ['ringmaster-local', ref('local')],
    ];
    const runs: Array<{ rows: WayMeasurement[]; otherLoadPct: number; ratios: { rttP50: number; throughput: number } }> = [];
    for (let run = 1; run <= RUNS; run++) {
      const { value: rows, otherLoadPct } = await withOtherLoad(availableParallelism(), async () => {
        const out: WayMeasurement[] = [];
        for (const [way, ends] of ways) out.push(await measureWay(way, ends, PLAN, cpu));
        return out;
      });
      const [rm, nr] = [rows[0]!, rows[1]!];
      const ratios = { rttP50: round2(rm.rtt.p50 / nr.rtt.p50), throughput: round2(rm.throughputPerSec / nr.throughputPerSec) };
      runs.push({ rows, otherLoadPct, ratios });
      console.log(`run ${run}: ${rows.map((r) => `${r.way} p50 ${r.rtt.p50} µs ${fmtInt(r.throughputPerSec)}/s`).join('; ')}; other processes ${otherLoadPct} %`);
      console.log(`  CPU µs per message (node a / node b): ${rows.map((r) => `${r.way} tell ${r.cpuUs.tell.near} / ${r.cpuUs.tell.far}, ask ${r.cpuUs.ask.near} / ${r.cpuUs.ask.far}`).join('; ')}`);
    }
    const results: Row[] = ways.map(([way], i) => ({
      way,
      rttUs: { p50: median(runs.map((r) => r.rows[i]!.rtt.p50)), p99: median(runs.map((r) => r.rows[i]!.rtt.p99)) },
      throughputPerSec: median(runs.map((r) => r.rows[i]!.throughputPerSec)),
      cpuUsPerMessage: {
        tell: { a: median(runs.map((r) => r.rows[i]!.cpuUs.tell.near)), b: median(runs.map((r) => r.rows[i]!.cpuUs.tell.far)) },
        ask: { a: median(runs.map((r) => r.rows[i]!.cpuUs.ask.near)), b: median(runs.map((r) => r.rows[i]!.cpuUs.ask.far)) },
      },
    }));
    const ratios = { rttP50: median(runs.map((r) => r.ratios.rttP50)), throughput: median(runs.map((r) => r.ratios.throughput)) };
    const c = (x: { a: number; b: number }): string => `${x.a} / ${x.b}`;
    console.log(`\n${table([['way', 'RTT p50 µs', 'RTT p99 µs', 'throughput msgs/s', 'CPU µs/tell a / b', 'CPU µs/ask a / b'], ...results.map((r) => [r.way, String(r.rttUs.p50), String(r.rttUs.p99), fmtInt(r.throughputPerSec), c(r.cpuUsPerMessage.tell), c(r.cpuUsPerMessage.ask)])])}`);
    console.log(`\nTargets (medians of ${RUNS} same-run ratios):
${check('ringmaster remote RTT p50 ≤ 1.25× raw NATS', ratios.rttP50 <= 1.25, `×${ratios.rttP50} (runs ${runs.map((r) => `×${r.ratios.rttP50}`).join(', ')})`)}
${check('ringmaster remote throughput ≥ 0.8× raw NATS', ratios.throughput >= 0.8, `×${ratios.throughput} (runs ${runs.map((r) => `×${r.ratios.throughput}`).join(', ')})`)}`);
    const out = {
      node: process.version,
      cpus: availableParallelism(),
      date: new Date().toISOString(),
      runs: RUNS,
      results,
      ratiosVsNatsRaw: ratios,
      perRun: runs.map((r) => ({ otherProcessesLoadPct: r.otherLoadPct, ratios: r.ratios, rows: r.rows.map((w) => ({ way: w.way, rttUs: { p50: w.rtt.p50, p99: w.rtt.p99, p999: w.rtt.p999 }, throughputPerSec: w.throughputPerSec, cpuUsPerMessage: w.cpuUs })) })),
      plan: PLAN,
      notes: [
        'Two processes on this machine: this one is node a (the asker, and the local sink), bench/lib/cluster-node.js is node b (the remote sink and the raw NATS far end); one nats-server on 127.0.0.1 started for the run.',
        'The payload is bench/lib/payload.ts tick (~100 bytes of msgpack). Raw NATS packs it with msgpackr, the far end unpacks it and answers it packed again (request/reply) or unpacks and counts it (publish).',
        'CPU per message: process.cpuUsage() (user + system, every thread of the process) of node a and of node b before and after the flood, divided by the tells, and across the round trips, divided by the asks (their warm-up included); the raw NATS far end shares node b\'s process, idle while ringmaster is measured and the other way round.',
        `RTT: ${PLAN.rttCount} asks (requests) one after another from the main thread, after ${PLAN.rttWarm} unrecorded. Throughput: ${PLAN.floodCount} tells (publishes) from the main thread in batches of ${PLAN.batch}, yielding to the event loop between batches, after ${PLAN.floodWarm} unrecorded, until the far end counted the last.`,
      ],
    };
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nwrote ${RESULTS}`);
  } finally {
    await nc.close().catch(() => {});
    far.proc.kill('SIGTERM');
    await new Promise((r) => (far.proc.exitCode !== null ? r(null) : far.proc.once('exit', r)));
    await system?.stop();
    await server.dispose();
  }
}

runBench('cluster', main, 15 * 60_000);
