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
import type { Faults } from './shared.js';
import type { StrategyConfig } from './strategy.js';

export interface TradingConfig {
  seed: number;
  feed: Omit<FeedConfig, 'seed' | 'subscribers'>;
  strategy: Omit<StrategyConfig, 'seed' | 'fault'>;
  risk: Omit<RiskConfig, 'seed' | 'fault'>;
  execution: Omit<ExecutionConfig, 'seed' | 'fault'>;
  portfolio: PortfolioConfig;
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
  strategy: { shortWindow: 5, longWindow: 20, qty: 100, addEvery: 8 },
  risk: { maxPosition: 500, maxExposure: 150_000 },
  execution: { slippageBps: 5, lotSize: 40 },
  portfolio: { startingCash: 1_000_000 },
  faults: { risk: { crashRate: 0.02, poisonRate: 0.01 }, execution: { hangRate: 0.01 } },
  supervision: { intensity: 30, periodMs: 10_000, heartbeat: { intervalMs: 100, misses: 5 }, maxRedeliveries: 1, shutdownMs: 2000 },
};

const module = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/**
 * one_for_one: a stage that crashes is restarted alone, and the messages
 * queued for it wait in its inbox meanwhile. Dependencies order the start
 * downstream-first, so the stop runs upstream-first and each stage drains
 * into one that is still running.
 */
export function tradingTree(cfg: TradingConfig): TreeSpec {
  const sup = cfg.supervision;
  const stage = (id: 'strategy' | 'risk' | 'execution', config: object, dependencies: string[]): ChildSpec => {
    const fault = cfg.faults[id];
    return {
      id,
      module: module(id),
      config: { ...config, seed: cfg.seed, fault },
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
      { id: 'portfolio', module: module('portfolio'), config: cfg.portfolio },
      stage('execution', cfg.execution, ['portfolio', 'ledger']),
      stage('risk', cfg.risk, ['execution', 'portfolio', 'ledger']),
      stage('strategy', cfg.strategy, ['risk', 'ledger']),
      {
        id: 'feed',
        module: module('feed'),
        config: { ...cfg.feed, seed: cfg.seed, subscribers: ['strategy', 'portfolio'] } satisfies FeedConfig,
        dependencies: ['strategy', 'portfolio'],
      },
    ],
  };
}
