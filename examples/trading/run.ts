/**
 * One run of the trading system: start it, let it trade until time is up or
 * the caller aborts, shut it down so that every order ends somewhere, and
 * reconcile the ledger against the system's dead letters. The exchange
 * breaker's transitions reach this thread on the `exchange.breaker` topic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ActorSystem, type ActorMetrics, type DeadLetter, type SystemEvent, type SystemOptions, type TreeSpec } from '../../src/index.js';
import { defaultConfig, tradingTree, type TradingConfig } from './config.js';
import type { FeedStats } from './feed.js';
import type { LedgerCounts, LedgerStatus } from './ledger.js';
import type { PortfolioSnapshot } from './portfolio.js';
import { BREAKER_SUBJECT, type BreakerNote, type Faults, type Order } from './shared.js';
import type { StrategyStats } from './strategy.js';

export interface RunOptions {
  /** Trade this long; without it the run lasts until `signal` aborts. */
  seconds?: number;
  signal?: AbortSignal;
  faults?: Faults;
  config?: Partial<TradingConfig>;
  logLevel?: string;
  statusEveryMs?: number;
  onStatus?: (line: string) => void;
  onEvent?: (e: SystemEvent) => void;
  /** Each transition of the exchange breaker (open, half-open, closed), as it happens. */
  onBreaker?: (note: BreakerNote) => void;
  /** Handed the system as soon as it runs (a test keeps it to stop it whatever happens). */
  onStarted?: (system: ActorSystem) => void;
  /** Start the system from these options (a loaded config file) instead of the built-in tree. */
  start?: SystemOptions;
  /** How long the pipeline may take to drain once the feed is stopped. */
  drainMs?: number;
}

export interface TradingReport {
  why: string;
  ticks: number;
  ledger: LedgerCounts | null;
  /** Orders of this run sent and never filled or rejected because they died as dead letters (the ledger's `deadLettered` counts every run's). */
  deadLettered: string[];
  /** Orders sent that neither the ledger nor the dead letters account for: must be empty. */
  unaccounted: string[];
  /** Dead letters that are not orders (notes, ticks): shown, not reconciled. */
  otherDeadLetters: number;
  crashes: Record<string, number>;
  restarts: Record<string, number>;
  portfolio: PortfolioSnapshot | null;
  /** The strategy's figures (ticks by topic, orders sized by the indicator), read once the pipeline drained. */
  strategy: StrategyStats | null;
  /** Every actor's counters (system.metrics()), read once the pipeline drained: the feed's publishes, the indicator pool's tasks. */
  metrics: ActorMetrics[];
  /** Transitions of the exchange breaker, in the order they were published. */
  breaker: BreakerNote[];
  events: SystemEvent[];
  balanced: boolean;
  problem?: string;
}

const PIPELINE = ['strategy', 'risk', 'execution'] as const;
const isOrder = (d: DeadLetter): boolean => (d.payload as Order | null)?.type === 'order';

/** Every order id the ledger has in `status`, page by page. */
export async function ledgerIds(system: ActorSystem, status: LedgerStatus): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const page = await system.ref('ledger').ask<{ total: number; ids: string[] }>({ type: 'ids', status, offset: out.length }, { timeout: 2000 });
    out.push(...page.ids);
    if (page.ids.length === 0 || out.length >= page.total) return out;
  }
}

/**
 * The tree with this run's id in the ledger's and the strategy's config: the
 * strategy puts it in its order ids (unique across runs in the journal), the
 * ledger books orders left open by an earlier run as interrupted.
 */
function withRun(node: TreeSpec, run: string): TreeSpec {
  if ('children' in node) return { ...node, children: node.children.map((c) => withRun(c, run)) };
  return node.id === 'ledger' || node.id === 'strategy' ? { ...node, config: { ...(node.config as object | undefined), run } } : node;
}

const counts = (system: ActorSystem): Promise<LedgerCounts> => system.ref('ledger').ask<LedgerCounts>({ type: 'counts' }, { timeout: 2000 });
const deadOrderIds = (system: ActorSystem): Set<string> => new Set(system.deadLetters().filter(isOrder).map((d) => (d.payload as Order).id));

/**
 * Wait until every open order is either dead-lettered or settled and no stage
 * holds mail, twice in a row (a restart in progress can look idle once).
 */
async function drain(system: ActorSystem, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  let quietPolls = 0;
  while (Date.now() < deadline && quietPolls < 2) {
    await new Promise((r) => setTimeout(r, 100));
    const c = await counts(system);
    const stages = system.status().filter((s) => (PIPELINE as readonly string[]).includes(s.id));
    const idle = stages.every((s) => s.inboxDepth === 0 && s.state === 'running');
    quietPolls = idle && c.open <= deadOrderIds(system).size ? quietPolls + 1 : 0;
  }
}

export async function runTrading(opts: RunOptions = {}): Promise<TradingReport> {
  const cfg: TradingConfig = { ...defaultConfig, ...opts.config, faults: opts.faults ?? opts.config?.faults ?? defaultConfig.faults };
  // Keep every dead letter: reconciliation needs each dead order, not the last thousand.
  // A run built here (tests) keeps the portfolio's journal in a folder of its own, removed at the end;
  // a run from the config file (npm start) keeps it where the file says, across runs.
  const scratch = opts.start ? null : mkdtempSync(join(tmpdir(), 'ringmaster-trading-'));
  const base: SystemOptions = opts.start ?? { name: 'trading', tree: tradingTree(cfg), log: { level: opts.logLevel ?? 'error' }, persistence: { path: join(scratch!, 'trading.db') } };
  const system = await ActorSystem.start({ ...base, tree: withRun(base.tree, randomUUID()), deadLetterLimit: 1_000_000 });
  opts.onStarted?.(system);
  const events: SystemEvent[] = [];
  const crashes: Record<string, number> = {};
  system.on('*', (e) => {
    events.push(e);
    if (e.type === 'crashed') crashes[e.actor] = (crashes[e.actor] ?? 0) + 1;
    opts.onEvent?.(e);
  });
  const breaker: BreakerNote[] = [];
  let breakerState: BreakerNote['state'] = 'closed';
  let executionIncarnation = 0;
  system.subscribe<BreakerNote>(BREAKER_SUBJECT, (note) => {
    breaker.push(note);
    // A note from an incarnation already replaced (it can arrive after the restart) says nothing about now.
    if (note.incarnation >= executionIncarnation) breakerState = note.state;
    opts.onBreaker?.(note);
  });
  // A new execution incarnation has a new breaker, closed.
  system.on('restarted', (e) => {
    if (e.actor !== 'execution') return;
    executionIncarnation = e.incarnation;
    breakerState = 'closed';
  });

  let ticks = 0;
  let trading = true;
  const startedAt = Date.now();
  const status = setInterval(() => {
    if (!trading || !opts.onStatus) return;
    void Promise.all([system.ref('feed').ask<FeedStats>({ type: 'stats' }, { timeout: 1000 }), counts(system)]).then(
      ([feed, c]) => {
        ticks = feed.ticks;
        const restarts = system.status().reduce((n, s) => n + s.restarts, 0);
        const crashed = Object.entries(crashes).map(([a, n]) => `${a} ${n}`).join(', ') || 'none';
        const t = ((Date.now() - startedAt) / 1000).toFixed(0).padStart(3);
        opts.onStatus?.(
          `[${t}s] ticks ${feed.ticks} · orders ${c.sent}: filled ${c.filled}, rejected ${c.rejected}, open ${c.open} · breaker ${breakerState} · crashes: ${crashed} · restarts ${restarts} · dead letters ${system.deadLetterCount}`,
        );
      },
      () => {}, // a stage busy restarting just skips a line
    );
  }, opts.statusEveryMs ?? 2000);

  let why = 'stopped';
  let ledger: LedgerCounts | null = null;
  let open: string[] = [];
  let deadLettered: string[] = [];
  let portfolio: PortfolioSnapshot | null = null;
  let strategy: StrategyStats | null = null;
  let metrics: ActorMetrics[] = [];
  let problem: string | undefined;
  try {
    why = await new Promise<string>((resolve) => {
      if (opts.seconds !== undefined) setTimeout(() => resolve('time up'), opts.seconds * 1000).unref();
      if (opts.signal?.aborted) resolve(String(opts.signal.reason));
      opts.signal?.addEventListener('abort', () => resolve(String(opts.signal?.reason)), { once: true });
      void system.whenStopped().then((r) => resolve(`the system stopped itself: ${r}`));
    });
    trading = false;
    if (system.state !== 'running') throw new Error(why);
    ticks = (await system.ref('feed').ask<{ ticks: number }>({ type: 'stats' }, { timeout: 1000 }).catch(() => ({ ticks }))).ticks;
    // Feed first, so no new orders are made while the rest drains.
    await system.stopActor('feed');
    await drain(system, opts.drainMs ?? 5000);
    strategy = await system.ref('strategy').ask<StrategyStats>({ type: 'stats' }, { timeout: 2000 }).catch(() => null);
    metrics = system.metrics().actors;
    // Stopping the stages upstream-first, each after draining its inbox, leaves nothing that
    // could still reach the ledger; asks are refused once system.stop() begins, so this is
    // the last moment the ledger can be read.
    for (const id of PIPELINE) await system.stopActor(id);
    // Orders that died in a stage (poison, or stopped with mail still queued) are dead letters:
    // the ledger books them as such, for this run's summary and every later one.
    const dead = deadOrderIds(system);
    deadLettered = (await ledgerIds(system, 'open')).filter((id) => dead.has(id));
    if (deadLettered.length > 0) await system.ref('ledger').ask({ type: 'dead-lettered', ids: deadLettered }, { timeout: 5000 });
    ledger = await counts(system);
    open = await ledgerIds(system, 'open');
    portfolio = await system.ref('portfolio').ask<PortfolioSnapshot>({ type: 'snapshot' }, { timeout: 2000 });
  } catch (err) {
    problem = (err as Error).message;
  } finally {
    trading = false;
    clearInterval(status);
    await system.stop(why);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }

  const letters = system.deadLetters();
  if (letters.length < system.deadLetterCount) problem ??= `only ${letters.length} of ${system.deadLetterCount} dead letters were kept`;
  if (ledger && ledger.orphans > 0) problem ??= `${ledger.orphans} outcomes for orders never reported sent`;
  // Whatever is still open was neither settled nor dead-lettered.
  const unaccounted = open;
  if (ledger && ledger.sent !== ledger.filled + ledger.rejected + ledger.deadLettered + ledger.interrupted + ledger.open) {
    problem ??= `the ledger does not add up: ${ledger.sent} sent, ${ledger.filled} filled + ${ledger.rejected} rejected + ${ledger.deadLettered} dead-lettered + ${ledger.interrupted} interrupted + ${ledger.open} open`;
  }
  const restarts = Object.fromEntries(system.status().filter((s) => s.restarts > 0).map((s) => [s.id, s.restarts]));
  return {
    why,
    ticks,
    ledger,
    deadLettered,
    unaccounted,
    otherDeadLetters: letters.filter((d) => !isOrder(d)).length,
    crashes,
    restarts,
    portfolio,
    strategy,
    metrics,
    breaker,
    events,
    balanced: ledger !== null && problem === undefined && unaccounted.length === 0,
    ...(problem === undefined ? {} : { problem }),
  };
}
