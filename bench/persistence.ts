/**
 * What persistence costs: persist throughput for one actor and for ten at
 * once (each persist awaited, so one durable SQLite transaction each),
 * persist latency p50/p99 (one actor, ten actors), and recovery of 100k
 * events with and without a snapshot; beside raw better-sqlite3 inserts of
 * the same rows (same file settings: WAL, synchronous NORMAL; one
 * autocommit insert per row, so each is durable like a persist) in the same
 * run, and the same rows ten to a transaction (ten journals interleaved:
 * what one commit for ten actors' persists would write at best). The
 * control: the same actors running the same loop with the same encoding of
 * each event and no journal, one actor and ten, so the cost of ten threads
 * sharing the machine's cores shows apart from the journal's. Medians of 3
 * rounds; writes bench/results/persistence.json. Run with
 * `npm run bench:persistence`.
 *
 * With nats-server installed (or NATS_SERVER), the JetStream backend too:
 * one actor's persists (JETSTREAM_EVENTS, 2000, each awaited) beside raw
 * JetStream publishes of the same rows, each awaited for its
 * acknowledgement, on a local server (file storage) started for the run.
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr/pack';
import { ActorSystem } from '../src/index.js';
import { Persister } from '../src/persistence/persister.js';
import { SqliteStore } from '../src/persistence/sqlite.js';
import { haveNatsServer, NatsServer } from '../test/helpers/nats-server.js';
import type PersistBench from './actors/persist-bench.js';
import { runBench } from './lib/peer.js';
import { table } from './lib/report.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/persistence.json');
const ACTOR = new URL('./actors/persist-bench.js', import.meta.url).href;
const EVENTS = Number(process.env.PERSIST_EVENTS ?? 20_000);
const JS_EVENTS = Number(process.env.JETSTREAM_EVENTS ?? 2_000);
const RECOVER = Number(process.env.PERSIST_RECOVER ?? 100_000);
const PAYLOAD = 'x'.repeat(64);

/** A Float32Array the actor sent: it crosses as its bytes (msgpack bin), copied here into an aligned buffer. */
const floats = (v: ArrayLike<number> | Uint8Array): number[] => (v instanceof Uint8Array ? Array.from(new Float32Array(Uint8Array.from(v).buffer)) : Array.from(v));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/**
 * The same rows a persist writes, inserted straight into the same table
 * layout: one autocommit insert each (`perTx` 1, one journal), or `perTx`
 * rows to a transaction, one row of each of `perTx` journals.
 */
function rawInserts(path: string, n: number, perTx = 1): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS raw (pid TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO raw (pid, seq, at, event) VALUES (?, ?, ?, ?)');
  const packr = new Packr({ useRecords: false });
  const pids = Array.from({ length: perTx }, (_, j) => `raw${j}`);
  const some = db.transaction((i: number) => {
    for (const pid of pids) insert.run(pid, i, Date.now(), packr.pack({ i, at: Date.now(), payload: PAYLOAD }));
  });
  const t0 = performance.now();
  if (perTx === 1) for (let i = 1; i <= n; i++) insert.run('raw', i, Date.now(), packr.pack({ i, at: Date.now(), payload: PAYLOAD }));
  else for (let i = 1; i <= n / perTx; i++) some.immediate(i);
  const ms = performance.now() - t0;
  db.close();
  return (n / ms) * 1000;
}

/** The same rows published one at a time into a JetStream stream, each awaited for the server's acknowledgement. */
async function rawPublishes(servers: string, n: number): Promise<number> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'] });
    const js = jetstream(nc);
    const packr = new Packr({ useRecords: false });
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) await js.publish('raw.p', packr.pack({ i, at: Date.now(), payload: PAYLOAD }));
    const ms = performance.now() - t0;
    await jsm.streams.delete('RAW');
    return (n / ms) * 1000;
  } finally {
    await nc.close();
  }
}

async function persistRun(path: string, actors: number, n: number, servers?: string, op: 'run' | 'encode' = 'run'): Promise<{ perSec: number; lat: number[] }> {
  // One handler runs the whole loop: no heartbeat, which a busy machine would miss (3 s without one crashes the actor).
  const children = Array.from({ length: actors }, (_, i) => ({ id: `p${i}`, module: ACTOR, heartbeat: false as const }));
  const persistence = servers ? { backend: 'jetstream' as const, jetstream: { servers } } : { path };
  const system = await ActorSystem.start({ name: 'bench-persist', log: { level: 'silent' }, persistence, tree: { id: 'root', strategy: 'one_for_one', children } });
  try {
    const t0 = performance.now();
    const results = await Promise.all(children.map((c) => system.ref<typeof PersistBench>(c.id).ask({ op, n, payload: PAYLOAD }, { timeout: 600_000 })));
    const ms = performance.now() - t0;
    return { perSec: ((actors * n) / ms) * 1000, lat: results.flatMap((r) => floats(r.lat)) };
  } finally {
    await system.stop();
  }
}

async function recoveryMs(path: string, withSnapshot: boolean): Promise<number> {
  const apply = (s: { count: number }): { count: number } => ({ count: s.count + 1 });
  const opts = { actor: 'bench', pid: withSnapshot ? 'snap' : 'full', apply, snapshotEvery: 0, prune: false };
  const writer = new Persister(SqliteStore.open({ path, actor: 'bench' }, opts.pid), opts, (err) => {
    throw err;
  });
  await writer.recover({ count: 0 });
  for (let i = 0; i < RECOVER; i += 1000) await writer.persist(Array.from({ length: 1000 }, (_, j) => ({ i: i + j, at: Date.now(), payload: PAYLOAD })));
  if (withSnapshot) await writer.snapshot();
  await writer.close();
  const reader = new Persister(SqliteStore.open({ path, actor: 'bench' }, opts.pid), opts, (err) => {
    throw err;
  });
  const t0 = performance.now();
  const r = await reader.recover({ count: 0 });
  const ms = performance.now() - t0;
  await reader.close();
  if ((r.state as { count: number }).count !== RECOVER) throw new Error(`recovered ${JSON.stringify(r.state)}, expected ${RECOVER} events`);
  return ms;
}

async function main(): Promise<void> {
  const runs = {
    ...{ raw: [] as number[], raw10: [] as number[], one: [] as number[], ten: [] as number[], p50: [] as number[], p99: [] as number[], tenP50: [] as number[], tenP99: [] as number[] },
    ...{ controlOne: [] as number[], controlTen: [] as number[], full: [] as number[], snap: [] as number[] },
  };
  for (let round = 0; round < 3; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'ringmaster-bench-persist-'));
    try {
      runs.raw.push(rawInserts(join(dir, 'raw.db'), EVENTS));
      const one = await persistRun(join(dir, 'one.db'), 1, EVENTS);
      runs.one.push(one.perSec);
      const sorted = [...one.lat].sort((a, b) => a - b);
      runs.p50.push(pct(sorted, 0.5));
      runs.p99.push(pct(sorted, 0.99));
      runs.raw10.push(rawInserts(join(dir, 'raw10.db'), EVENTS, 10));
      const ten = await persistRun(join(dir, 'ten.db'), 10, EVENTS / 10);
      runs.ten.push(ten.perSec);
      const tenSorted = [...ten.lat].sort((a, b) => a - b);
      runs.tenP50.push(pct(tenSorted, 0.5));
      runs.tenP99.push(pct(tenSorted, 0.99));
      runs.controlOne.push((await persistRun(join(dir, 'control1.db'), 1, EVENTS, undefined, 'encode')).perSec);
      runs.controlTen.push((await persistRun(join(dir, 'control10.db'), 10, EVENTS / 10, undefined, 'encode')).perSec);
      runs.full.push(await recoveryMs(join(dir, 'recover.db'), false));
      runs.snap.push(await recoveryMs(join(dir, 'recover.db'), true));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const js = haveNatsServer() ? await jetStreamRounds() : null;
  if (!js) console.log('(JetStream not measured: nats-server is not installed)');
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<keyof typeof runs, number>;
  const sameRound = (a: number[], b: number[]): number => median(a.map((v, i) => v / b[i]!));
  const ratios = {
    oneActor: sameRound(runs.one, runs.raw),
    tenActors: sameRound(runs.ten, runs.raw),
    tenActorsToRawTenPerTx: sameRound(runs.ten, runs.raw10),
    controlTenToOne: sameRound(runs.controlTen, runs.controlOne),
    tenToOneActor: sameRound(runs.ten, runs.one),
  };
  const result = {
    node: process.version,
    date: new Date().toISOString(),
    events: EVENTS,
    persistPerSec: { oneActor: Math.round(m.one), tenActors: Math.round(m.ten) },
    rawInsertPerSec: Math.round(m.raw),
    rawInsertTenPerTxPerSec: Math.round(m.raw10),
    ratioToRaw: { oneActor: Number(ratios.oneActor.toFixed(2)), tenActors: Number(ratios.tenActors.toFixed(2)), tenActorsToRawTenPerTx: Number(ratios.tenActorsToRawTenPerTx.toFixed(2)) },
    persistUs: { p50: Number(m.p50.toFixed(1)), p99: Number(m.p99.toFixed(1)), tenActorsP50: Number(m.tenP50.toFixed(1)), tenActorsP99: Number(m.tenP99.toFixed(1)) },
    control: { oneActorPerSec: Math.round(m.controlOne), tenActorsPerSec: Math.round(m.controlTen), tenToOne: Number(ratios.controlTenToOne.toFixed(2)), persistTenToOne: Number(ratios.tenToOneActor.toFixed(2)) },
    recoveryMs: { events100k: Number(m.full.toFixed(1)), events100kWithSnapshot: Number(m.snap.toFixed(1)) },
    ...(js ? { jetstream: js.summary } : {}),
    runs: { ...runs, ...(js ? { jetstream: js.runs } : {}) },
  };
  console.log(`node ${process.version}; ${EVENTS} events per round, each persist awaited; medians of 3 rounds (ratios: medians of same-round ratios)\n`);
  console.log(
    table([
      ['', 'events/s', '× raw inserts'],
      ['raw better-sqlite3 inserts (autocommit, WAL, NORMAL)', String(result.rawInsertPerSec), '1'],
      ['raw inserts, ten journals, ten rows a transaction', String(result.rawInsertTenPerTxPerSec), sameRound(runs.raw10, runs.raw).toFixed(2)],
      ['persist, one actor', String(result.persistPerSec.oneActor), ratios.oneActor.toFixed(2)],
      ['persist, ten actors at once', String(result.persistPerSec.tenActors), `${ratios.tenActors.toFixed(2)} (${ratios.tenActorsToRawTenPerTx.toFixed(2)} of ten a transaction)`],
    ]),
  );
  console.log(
    `\ncontrol, the same loop and encoding without a journal: one actor ${result.control.oneActorPerSec}/s, ten ${result.control.tenActorsPerSec}/s ` +
      `(ten ÷ one: ${ratios.controlTenToOne.toFixed(2)}; with the journal: ${ratios.tenToOneActor.toFixed(2)})`,
  );
  if (js) {
    const j = js.summary;
    console.log(`\nJetStream (a local nats-server, file storage; ${JS_EVENTS} events per round):`);
    console.log(
      table([
        ['', 'events/s', '× raw publishes'],
        ['raw JetStream publishes (each acknowledged)', String(j.rawPublishPerSec), '1'],
        ['persist, one actor', String(j.persistPerSec), j.ratioToRaw.toFixed(2)],
      ]),
    );
    console.log(`persist latency on JetStream: p50 ${j.persistUs.p50} µs, p99 ${j.persistUs.p99} µs`);
  }
  console.log(`\npersist latency: one actor p50 ${result.persistUs.p50} µs, p99 ${result.persistUs.p99} µs; ten actors p50 ${result.persistUs.tenActorsP50} µs, p99 ${result.persistUs.tenActorsP99} µs`);
  console.log(`recovery of ${RECOVER} events: ${result.recoveryMs.events100k} ms from the journal, ${result.recoveryMs.events100kWithSnapshot} ms from a snapshot`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${RESULTS}`);
}

/** Three rounds against one local server: raw publishes, then one actor's persists. */
async function jetStreamRounds(): Promise<{ summary: { persistPerSec: number; rawPublishPerSec: number; ratioToRaw: number; persistUs: { p50: number; p99: number } }; runs: Record<string, number[]> }> {
  const server = await NatsServer.start();
  const r = { raw: [] as number[], one: [] as number[], p50: [] as number[], p99: [] as number[] };
  try {
    for (let round = 0; round < 3; round++) {
      r.raw.push(await rawPublishes(server.url, JS_EVENTS));
      const one = await persistRun('', 1, JS_EVENTS, server.url);
      r.one.push(one.perSec);
      const sorted = [...one.lat].sort((a, b) => a - b);
      r.p50.push(pct(sorted, 0.5));
      r.p99.push(pct(sorted, 0.99));
    }
  } finally {
    await server.dispose();
  }
  return {
    summary: {
      persistPerSec: Math.round(median(r.one)),
      rawPublishPerSec: Math.round(median(r.raw)),
      ratioToRaw: Number(median(r.one.map((v, i) => v / r.raw[i]!)).toFixed(2)),
      persistUs: { p50: Number(median(r.p50).toFixed(1)), p99: Number(median(r.p99).toFixed(1)) },
    },
    runs: r,
  };
}

runBench('persistence', main, 900_000);
