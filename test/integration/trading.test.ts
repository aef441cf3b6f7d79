import { expect } from 'chai';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ActorSystem, type ChildSpec, type SystemEvent, type TreeSpec } from '../../src/index.js';
import { defaultConfig, tradingTree } from '../../examples/trading/config.js';
import type { ExecutionStats } from '../../examples/trading/execution.js';
import type { LedgerCounts } from '../../examples/trading/ledger.js';
import { runTrading, type TradingReport } from '../../examples/trading/run.js';
import { marketSubject, type BreakerNote, type Faults } from '../../examples/trading/shared.js';
import { until } from './system-helpers.js';

// Rates far above the example's, so crashes, hangs and poison orders happen within a few seconds.
const faults: Faults = {
  strategy: { crashRate: 0.002 },
  risk: { crashRate: 0.05, poisonRate: 0.04 },
  execution: { crashRate: 0.03, hangRate: 0.02 },
};

/** What every run must show, faults or not: each order the strategy sent ended somewhere, once. */
function expectAccounted(report: TradingReport): LedgerCounts {
  expect(report.problem, report.problem).to.equal(undefined);
  const ledger = report.ledger!;
  expect(ledger, 'the ledger was read before the stop').to.not.equal(null);
  expect(report.unaccounted, 'orders neither settled nor dead-lettered').to.deep.equal([]);
  expect(ledger.orphans).to.equal(0);
  // One run on a journal of its own: nothing from an earlier run, and this run's dead letters booked in the ledger.
  expect(ledger.runs).to.equal(1);
  expect(ledger.interrupted).to.equal(0);
  expect(ledger.deadLettered).to.equal(report.deadLettered.length);
  expect(ledger.open).to.equal(0);
  expect(ledger.sent).to.equal(ledger.filled + ledger.rejected + ledger.deadLettered);
  expect(report.balanced).to.equal(true);
  return ledger;
}

describe('trading example (real workers, faults on)', function () {
  this.timeout(60_000);
  const started: ActorSystem[] = [];
  afterEach(async () => {
    // runTrading stops its system itself; this covers a run that threw halfway.
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('accounts for every order as filled, rejected or dead-lettered while stages crash and hang', async () => {
    const report = await runTrading({
      seconds: 4,
      faults,
      // Enough restart budget for these rates: the point is redelivery and accounting, not escalation.
      config: { feed: { ...defaultConfig.feed, ticksPerSecond: 400 }, supervision: { ...defaultConfig.supervision, intensity: 500 } },
      drainMs: 10_000,
      onStarted: (s) => started.push(s),
    });

    const ledger = expectAccounted(report);
    expect(ledger.filled).to.be.greaterThan(0);

    // Each dead-lettered order is one the system reports as a dead letter to a stage.
    const deadIds = new Set(report.events.flatMap((e) => (e.type === 'dead-letter' ? [(e.letter.payload as { id?: string }).id] : [])));
    for (const id of report.deadLettered) expect(deadIds.has(id), id).to.equal(true);

    // At least one stage crashed and came back as a later incarnation.
    const crashed = report.events.filter((e): e is Extract<SystemEvent, { type: 'crashed' }> => e.type === 'crashed');
    expect(crashed.length).to.be.greaterThan(0);
    const cameBack = crashed.some((c) => report.events.some((e) => e.type === 'restarted' && e.actor === c.actor && e.incarnation > c.incarnation));
    expect(cameBack, 'a crashed stage was restarted').to.equal(true);
    expect(report.events.some((e) => e.type === 'escalated')).to.equal(false);
  });

  it('carries ticks over market.<SYMBOL> topics and sizes orders with forecasts from the indicator pool', async () => {
    const report = await runTrading({ seconds: 2, faults: {}, drainMs: 10_000, onStarted: (s) => started.push(s) });
    expectAccounted(report);
    const metrics = (id: string) => report.metrics.find((a) => a.id === id);

    // The feed publishes; nothing it published went unrouted, and the strategy got its ticks from the topics.
    const feed = metrics('feed')!;
    expect(feed.published).to.be.greaterThan(0);
    expect(feed.unrouted).to.equal(0);
    const strategy = report.strategy!;
    expect(strategy.direct, 'ticks sent to the strategy directly').to.equal(0);
    expect(Object.keys(strategy.bySubject).sort()).to.deep.equal(defaultConfig.feed.symbols.map(marketSubject).sort());
    expect(strategy.ticks).to.equal(Object.values(strategy.bySubject).reduce((a, b) => a + b, 0));

    // The indicator is a pool actor that handled the strategy's asks.
    const indicator = metrics('indicator')!;
    expect(indicator.pool, 'pool stats for the indicator').to.not.equal(undefined);
    expect(indicator.pool!.completed).to.be.greaterThan(0);
    expect(indicator.pool!.failed).to.equal(0);
    expect(strategy.sized).to.be.greaterThan(0);
    expect(strategy.sized + strategy.unsized).to.equal(strategy.orders);
  });

  it('opens the exchange breaker during outages, rejects orders without calling the exchange, and closes it again', async () => {
    const abort = new AbortController();
    const notes: BreakerNote[] = [];
    let system: ActorSystem | undefined;
    const run = runTrading({
      signal: abort.signal,
      // Outages start often and end soon, so the breaker opens, probes and closes many times.
      faults: { execution: { exchangeOutageRate: 0.2, exchangeOutageMs: 600 } },
      config: { execution: { ...defaultConfig.execution, breaker: { consecutiveFailures: 5, halfOpenAfterMs: 200 } } },
      drainMs: 10_000,
      onStarted: (s) => started.push((system = s)),
      onBreaker: (n) => notes.push(n),
    });
    let stats: ExecutionStats | undefined;
    try {
      await until(async () => {
        if (!system) return false;
        stats = await system.ref('execution').ask<ExecutionStats>({ type: 'stats' }, { timeout: 2000 });
        const opened = notes.findIndex((n) => n.state === 'open');
        const closedAfter = opened >= 0 && notes.slice(opened).some((n) => n.state === 'closed' && n.reason === 'probes-succeeded');
        return closedAfter && stats.shortCircuited > 0;
      }, 'the breaker to open, turn orders away and close again', 40_000);
    } finally {
      abort.abort('seen enough');
    }
    const report = await run;
    const ledger = expectAccounted(report);

    expect(report.breaker).to.deep.equal(notes);
    const open = notes.find((n) => n.state === 'open')!;
    expect(open.reason).to.be.oneOf(['consecutive-failures', 'failure-rate']);
    expect(open.error).to.match(/timeout 'exchange'/);
    // Open → half-open → open or closed: the circuit closes only after a probe (each incarnation has its own breaker).
    for (const [i, n] of notes.entries()) {
      if (n.state !== 'closed') continue;
      const before = notes.slice(0, i).filter((p) => p.incarnation === n.incarnation).at(-1);
      expect(before?.state).to.equal('half-open');
    }

    // Orders turned away by the open circuit are rejections with the breaker's reason, and never reached the exchange.
    expect(ledger.rejectReasons.circuit ?? 0).to.be.at.least(stats!.shortCircuited);
    expect(ledger.reasonExamples.circuit).to.match(/^circuit (open|half-open): the exchange breaker rejects orders/);
    expect(ledger.rejectReasons.exchange ?? 0, 'calls that timed out during an outage').to.be.greaterThan(0);
    expect(stats!.exchangeCalls + stats!.shortCircuited).to.be.at.most(ledger.sent);
  });

  it('runs from trading.yaml the same tree as the built-in configuration', async () => {
    const file = fileURLToPath(new URL('../../../examples/trading/trading.yaml', import.meta.url));
    const loaded = await loadConfig(file, { env: {} });
    const absolute = (node: TreeSpec): TreeSpec => {
      if ('children' in node) return { ...node, children: node.children.map(absolute) };
      const child = node as ChildSpec;
      const at = (m: string): string => (isAbsolute(m) ? m : resolve(loaded.config.baseDir, m));
      return { ...child, ...(child.module ? { module: at(child.module) } : {}), ...(child.pool ? { pool: { ...child.pool, module: at(child.pool.module) } } : {}) };
    };
    expect(absolute(loaded.config.tree)).to.deep.equal(tradingTree(defaultConfig));
  });
});
