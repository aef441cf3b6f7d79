/**
 * A trading pipeline under supervision: feed → strategy → risk → execution →
 * portfolio, each stage an actor in its own worker thread, market data on
 * `market.<SYMBOL>` topics, a volatility indicator on a thread pool, and a
 * circuit breaker in front of the simulated exchange. Risk and execution
 * are made to crash and hang now and then, and the exchange to go down.
 * Runs until Ctrl-C (or for RINGMASTER_DEMO_SECONDS), drains, stops, and
 * checks that every order the strategy sent was filled, rejected or
 * dead-lettered. Exit code 1 if not.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, ConfigManager, configRoutes, loadConfig, startHttp, toSystemOptions, type ActorSystem, type HttpServer, type ActorMetrics, type SystemEvent, type TreeSpec } from '../../src/index.js';
import { defaultConfig } from './config.js';
import { runTrading, type TradingReport } from './run.js';
import type { BreakerNote, FaultSpec, Order } from './shared.js';

const pct = (x: number | undefined): string => `${+((x ?? 0) * 100).toFixed(2)}%`;
const money = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const listOf = (xs: string[], max = 5): string => (xs.length === 0 ? '' : `  (${xs.slice(0, max).join(', ')}${xs.length > max ? ', …' : ''})`);

function describeFault(stage: string, f: FaultSpec): string {
  const parts = [
    f.crashRate && `crash ${pct(f.crashRate)}`,
    f.poisonRate && `poison ${pct(f.poisonRate)}`,
    f.hangRate && `hang ${pct(f.hangRate)}`,
    f.exchangeOutageRate && `exchange outage ${pct(f.exchangeOutageRate)} (${f.exchangeOutageMs ?? 2000} ms)`,
  ];
  return `${stage} ${parts.filter(Boolean).join(' + ')}`;
}

/** The fault switch of every stage in a tree (the config file's, not the built-in defaults). */
function faultsIn(node: TreeSpec): Array<[string, FaultSpec]> {
  if ('children' in node) return node.children.flatMap(faultsIn);
  const fault = (node.config as { fault?: FaultSpec } | undefined)?.fault;
  return fault ? [[node.id, fault]] : [];
}

function onBreaker(n: BreakerNote): void {
  if (n.state === 'open') {
    const probe = n.nextProbeAt ? `, probe in ${Math.max(0, n.nextProbeAt - Date.now())} ms` : '';
    console.log(`  ⚡ exchange breaker open (${n.reason}${probe}): orders rejected at once · ${n.error ?? ''}`);
  } else if (n.state === 'half-open') console.log('  ◐ exchange breaker half-open: the next order probes the exchange');
  else console.log(`  ● exchange breaker closed (${n.reason}): orders reach the exchange again`);
}

function onEvent(e: SystemEvent): void {
  if (e.type === 'crashed') console.log(`  ✗ ${e.actor} #${e.incarnation} crashed (${e.cause}): ${e.reason}`);
  else if (e.type === 'restarted') console.log(`  ↻ ${e.actor} is back as incarnation ${e.incarnation}`);
  else if (e.type === 'escalated') console.log(`  ⚠ ${e.supervisor} gave up: ${e.reason}`);
  else if (e.type === 'dead-letter' && (e.letter.payload as Order | null)?.type === 'order') {
    console.log(`  ✉ order ${(e.letter.payload as Order).id} dead-lettered in ${e.letter.to} (${e.letter.reason.split(':')[0]})`);
  }
}

function print(r: TradingReport): void {
  console.log(`\nstopped (${r.why}) after ${r.ticks} ticks`);
  if (r.ledger) {
    const l = r.ledger;
    const reasons = Object.entries(l.rejectReasons).map(([k, n]) => `${k} ${n}`).join(', ');
    const runs = l.runs > 1 ? `the ${l.runs} runs so far, from its journal` : 'this run, the first in its journal';
    console.log(`ledger (persistent: ${runs}): ${l.sent} orders sent`);
    console.log(`  filled         ${String(l.filled).padStart(6)}`);
    console.log(`  rejected       ${String(l.rejected).padStart(6)}${reasons ? `  (${reasons})` : ''}`);
    console.log(`  dead-lettered  ${String(l.deadLettered).padStart(6)}${r.deadLettered.length > 0 ? `  (this run ${r.deadLettered.length}${listOf(r.deadLettered).trim() ? ': ' + r.deadLettered.slice(0, 5).join(', ') + (r.deadLettered.length > 5 ? ', …' : '') : ''})` : ''}`);
    if (l.interrupted > 0) console.log(`  interrupted    ${String(l.interrupted).padStart(6)}  (in flight when an earlier run was killed: lost with its process)`);
    console.log(`  unaccounted    ${String(r.unaccounted.length).padStart(6)}${listOf(r.unaccounted)}`);
    if (l.duplicates > 0) console.log(`  (${l.duplicates} outcomes reported twice after a redelivery, counted once)`);
  }
  const byActor = (m: Record<string, number>): string => Object.entries(m).map(([a, n]) => `${a} ${n}`).join(', ') || 'none';
  console.log(`supervision: crashes ${byActor(r.crashes)} · restarts ${byActor(r.restarts)} · other dead letters ${r.otherDeadLetters}`);
  const m = (id: string): ActorMetrics | undefined => r.metrics.find((a) => a.id === id);
  const feed = m('feed');
  if (feed && r.strategy) {
    const subjects = Object.entries(r.strategy.bySubject).map(([s, n]) => `${s} ${n}`).join(', ');
    console.log(`topics: feed published ${feed.published} ticks (unrouted ${feed.unrouted}); the strategy took ${r.strategy.ticks - r.strategy.direct} from topics (${subjects})`);
  }
  const indicator = m('indicator');
  if (indicator?.pool && r.strategy) {
    const pool = indicator.pool;
    const avgMs = pool.completed > 0 ? ((indicator.handler.sumSeconds * 1000) / pool.completed).toFixed(2) : '-';
    console.log(`indicator pool: ${pool.completed} tasks (${pool.failed} failed, ${avgMs} ms each on average), pool threads ${pool.threads} · the strategy sized ${r.strategy.sized} orders by a forecast, ${r.strategy.unsized} at full size without one`);
  }
  const opened = r.breaker.filter((n) => n.state === 'open').length;
  const closed = r.breaker.filter((n) => n.state === 'closed').length;
  const rejectedOpen = r.ledger?.rejectReasons.circuit ?? 0;
  console.log(
    `exchange breaker: opened ${opened}, closed by a probe ${closed} (a restarted execution starts closed) · orders rejected by the open circuit ${rejectedOpen}, by exchange failures ${r.ledger?.rejectReasons.exchange ?? 0}`,
  );
  if (r.portfolio) {
    const p = r.portfolio;
    const positions = Object.entries(p.positions)
      .filter(([, x]) => x.qty !== 0)
      .map(([s, x]) => `${s} ${x.qty > 0 ? '+' : ''}${x.qty} @ ${x.avgPx}`)
      .join(', ');
    console.log(`portfolio (persistent: every run so far, from its journal): ${p.fills} partial fills · equity ${money(p.equity)} · realised ${money(p.realised)} · unrealised ${money(p.unrealised)}`);
    console.log(`  positions: ${positions || 'flat'}`);
  }
  if (r.problem) console.log(`problem: ${r.problem}`);
  console.log(r.balanced ? 'balanced: every order is filled, rejected, dead-lettered or interrupted ✓' : 'NOT balanced ✗');
}

// The system comes from its config file (with RINGMASTER_* environment overrides), watched for hot reload.
const CONFIG_FILE = process.env.RINGMASTER_CONFIG ?? fileURLToPath(new URL('../../../examples/trading/trading.yaml', import.meta.url));
const loaded = await loadConfig(CONFIG_FILE).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
const live: { http: HttpServer | null; manager: ConfigManager | null } = { http: null, manager: null };
const serve = async (system: ActorSystem): Promise<void> => {
  const m = (live.manager = new ConfigManager(system, loaded));
  await m.watch();
  const h = loaded.config.http;
  if (h) {
    const routes = configRoutes(m);
    const http = (live.http = await startHttp(system, {
      host: h.host,
      port: h.port,
      ...(h.token ? { token: h.token } : {}),
      ...(h.allowedHosts !== undefined ? { allowedHosts: h.allowedHosts } : {}),
      reloads: () => m.counts(),
      onReload: routes.reload,
      config: routes,
    }));
    console.log(`watching ${CONFIG_FILE} (edit a fault rate: applied live)`);
    console.log(`dashboard ${http.url}/ (${h.token ? 'restart, stop and reload take the bearer token' : 'read-only: set RINGMASTER_HTTP_TOKEN to restart, stop and reload from it'})`);
    console.log(`health ${http.url}/health · metrics ${http.url}/metrics · tree ${http.url}/api/tree · node dist/src/cli/main.js status --url ${http.url}`);
  }
};
let serving: Promise<void> = Promise.resolve();

const faultText = faultsIn(loaded.config.tree).map(([s, f]) => describeFault(s, f)).join('; ');
const journal = loaded.config.persistence.path;
const journalPath = journal === undefined ? resolve('data', `${loaded.config.name}.db`) : resolve(loaded.config.baseDir, journal);
console.log('trading desk: feed → strategy → risk → execution → portfolio, each in its own worker thread');
console.log('market data on market.<SYMBOL> topics · volatility indicator on a 2-thread pool · circuit breaker in front of the exchange');
console.log(`faults per message: ${faultText || 'none'} · hangs are caught by the heartbeat after ${defaultConfig.supervision.heartbeat.intervalMs * defaultConfig.supervision.heartbeat.misses} ms`);
console.log(`the ledger and the portfolio are persistent: their journal is ${journalPath} (kill -9 this process and start it again: they go on)`);
console.log('Ctrl-C stops it (a second Ctrl-C forces exit); status every 2 s:');

const abort = new AbortController();
let signals = 0;
const onSignal = (sig: string): void => {
  if (++signals > 1) {
    console.log(`\n${sig} again: exiting without waiting for the drain`);
    process.exit(130);
  }
  console.log(`\n${sig}: stopping the feed and draining the pipeline…`);
  abort.abort(sig);
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

const seconds = Number(process.env.RINGMASTER_DEMO_SECONDS ?? 0);
const report = await runTrading({
  ...(seconds > 0 ? { seconds } : {}),
  signal: abort.signal,
  start: toSystemOptions(loaded.config),
  onStarted: (system) => {
    serving = serve(system).catch((err: unknown) => console.error(`HTTP or watcher failed: ${(err as Error).message}`));
  },
  onStatus: (line) => console.log(line),
  onEvent,
  onBreaker,
});
await serving;
await live.manager?.close();
await live.http?.close();
print(report);
process.exitCode = report.balanced ? 0 : 1;
