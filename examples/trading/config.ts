/**
 * The trading system's settings and its supervision tree. Kept as data in one
 * place so the tree can later be read from a config file unchanged.
 */
import { fileURLToPath } from 'node:url';
import type { ChildSpec, TreeSpec } from '../../src/index.js';
import type { ExecutionConfig } from './execution.js';
import type { FeedConfig } from './feed.js';
import type { PortfolioConfig } from './portfolio.js';
import type { RiskConfig } from './risk.js';
import { ALL_MARKETS, type Faults } from './shared.js';
import type { StrategyConfig } from './strategy.js';

export interface TradingConfig {
  seed: number;
  feed: Omit<FeedConfig, 'seed'>;
  strategy: Omit<StrategyConfig, 'seed' | 'fault'>;
  risk: Omit<RiskConfig, 'seed' | 'fault'>;
  execution: Omit<ExecutionConfig, 'seed' | 'fault'>;
  portfolio: PortfolioConfig;
  /** The volatility indicator's pool: threads kept when idle, and at most. */
  indicator: { minThreads: number; maxThreads: number };
  faults: Faults;
  supervision: {
    intensity: number;
    periodMs: number;
    /** Hang detection on the pipeline stages: a blocked loop is killed after intervalMs × misses. */
    heartbeat: { intervalMs: number; misses: number };
    maxRedeliveries: number;
    /** How long a stopping stage may take to drain before it is terminated. */
    shutdownMs: number;
  };
}

export const defaultConfig: TradingConfig = {
  seed: 42,
  feed: { symbols: ['AAPL', 'MSFT', 'NVDA', 'TSLA'], ticksPerSecond: 200, volatility: 0.002, startPx: 100 },
  strategy: { shortWindow: 5, longWindow: 20, qty: 100, addEvery: 8, targetVol: 0.002, indicator: { window: 64, grid: 48, timeoutMs: 1000 } },
  risk: { maxPosition: 500, maxExposure: 150_000 },
  execution: {
    slippageBps: 5,
    lotSize: 40,
    exchange: { failureRate: 0.02, latencyMs: 1, timeoutMs: 50 },
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1000 },
  },
  portfolio: { startingCash: 1_000_000 },
  indicator: { minThreads: 1, maxThreads: 2 },
  faults: { risk: { crashRate: 0.02, poisonRate: 0.01 }, execution: { hangRate: 0.01, exchangeOutageRate: 0.005, exchangeOutageMs: 2000 } },
  // The faults below cost ~2–3 restarts a second at the feed's rate: the budget sits well above that, so the demo's root does not give up.
  supervision: { intensity: 100, periodMs: 10_000, heartbeat: { intervalMs: 100, misses: 5 }, maxRedeliveries: 1, shutdownMs: 2000 },
};

const module = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/**
 * one_for_one: a stage that crashes is restarted alone, and the messages
 * queued for it wait in its inbox meanwhile. Dependencies order the start
 * downstream-first, so the stop runs upstream-first and each stage drains
 * into one that is still running. The strategy and the portfolio subscribe
 * to `market.>` here, in the tree, so their subscriptions exist before the
 * feed publishes its first tick and outlive their restarts.
 */
export function tradingTree(cfg: TradingConfig): TreeSpec {
  const sup = cfg.supervision;
  const stage = (id: 'strategy' | 'risk' | 'execution', config: object, dependencies: string[]): ChildSpec => {
    const fault = cfg.faults[id];
    return {
      id,
      module: module(id),
      config: { ...config, seed: cfg.seed, ...(fault ? { fault } : {}) },
      dependencies,
      heartbeat: sup.heartbeat,
      maxRedeliveries: sup.maxRedeliveries,
      shutdown: sup.shutdownMs,
      // Short: hangs already cost intervalMs × misses each, and the spare makes a restart cheap.
      backoff: { min: 10, max: 200, resetAfter: 2000 },
      // A spare thread per faulty stage makes its restarts take milliseconds; healthy ones skip the cost.
      standby: fault !== undefined,
    };
  };
  return {
    id: 'desk',
    strategy: 'one_for_one',
    intensity: sup.intensity,
    period: sup.periodMs,
    children: [
      { id: 'ledger', module: module('ledger') },
      { id: 'portfolio', module: module('portfolio'), config: cfg.portfolio, subscribe: [ALL_MARKETS] },
      stage('execution', cfg.execution, ['portfolio', 'ledger']),
      stage('risk', cfg.risk, ['execution', 'portfolio', 'ledger']),
      // A stateless handler on a piscina pool: any of its threads answers the strategy's asks.
      { id: 'indicator', pool: { module: module('indicator-task'), ...cfg.indicator } },
      { ...stage('strategy', cfg.strategy, ['risk', 'ledger', 'indicator']), subscribe: [ALL_MARKETS] },
      {
        id: 'feed',
        module: module('feed'),
        config: { ...cfg.feed, seed: cfg.seed } satisfies FeedConfig,
        dependencies: ['strategy', 'portfolio'],
      },
    ],
  };
}
