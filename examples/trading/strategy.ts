/**
 * Signals from ticks: a short/long moving-average cross per symbol. A cross
 * opens an order in its direction; while the trend lasts the strategy adds to
 * it every `addEvery` ticks, which is what eventually runs into risk limits.
 *
 * Ticks come from the `market.<SYMBOL>` topics (the tree subscribes this
 * actor to `market.>`). Before an order goes out, the strategy asks the
 * `indicator` pool for a volatility forecast over the symbol's recent prices
 * and sizes the order down when the market is more volatile than its target.
 */
import { defineActor, type ActorContext } from '../../src/actor/index.js';
import type { IndicatorRequest, IndicatorResult } from './indicator-task.js';
import { incarnationRng, maybeFault, type FaultSpec, type Order, type Side, type Tick } from './shared.js';

export interface StrategyConfig {
  shortWindow: number;
  longWindow: number;
  /** Size of an order when volatility is at or below `targetVol`. */
  qty: number;
  addEvery: number;
  /** Per-tick volatility (standard deviation of a tick's log return) an order of `qty` is meant for. */
  targetVol: number;
  indicator: {
    /** Prices sent with each request (the last `window` of the symbol). */
    window: number;
    /** The indicator's grid points per parameter. */
    grid: number;
    timeoutMs: number;
  };
  seed: number;
  fault?: FaultSpec;
  /** This process's run (set by run.ts): in the order ids, so the ledger's journal never sees one id in two runs. */
  run?: string;
}

/** What `{ type: 'stats' }` answers. */
export interface StrategyStats {
  ticks: number;
  /** Ticks by the topic they were published on. */
  bySubject: Record<string, number>;
  /** Ticks that came as direct messages rather than from a topic (0: the feed only publishes). */
  direct: number;
  orders: number;
  /** Orders sized by a forecast, and those sent at full size without one (the pool failed, or had not answered yet). */
  sized: number;
  unsized: number;
  indicatorFailures: number;
}

interface SymbolView {
  /** The last max(longWindow, indicator.window) prices. */
  prices: number[];
  trend: Side | null;
  ticksInTrend: number;
}

interface StrategyState {
  symbols: Map<string, SymbolView>;
  nextOrder: number;
  rnd: () => number;
  /** The indicator has answered this incarnation's first ask (see init). */
  indicatorUp: boolean;
  stats: StrategyStats;
}

type StrategyMsg = Tick | { type: 'stats' };

/** Order sizes are multiples of this. */
const QTY_STEP = 10;

const mean = (xs: number[], last: number): number => {
  let sum = 0;
  for (let i = xs.length - last; i < xs.length; i++) sum += xs[i]!;
  return sum / last;
};

/**
 * `qty` scaled by targetVol / vol (never up), in steps of QTY_STEP. Without
 * a forecast (the pool failed or timed out) the order keeps its full size:
 * risk still bounds it.
 */
async function size(view: SymbolView, tick: Tick, state: StrategyState, ctx: ActorContext<StrategyConfig>): Promise<number> {
  const cfg = ctx.config;
  const req: IndicatorRequest = { symbol: tick.symbol, prices: view.prices.slice(-cfg.indicator.window), grid: cfg.indicator.grid };
  let forecast: IndicatorResult;
  try {
    forecast = await ctx.ask<IndicatorResult>('indicator', req, { timeout: cfg.indicator.timeoutMs });
  } catch (err) {
    state.stats.indicatorFailures++;
    state.stats.unsized++;
    ctx.log.warn({ err: (err as Error).message, symbol: tick.symbol }, 'no volatility forecast; full size');
    return cfg.qty;
  }
  state.stats.sized++;
  if (!(forecast.vol > cfg.targetVol)) return cfg.qty;
  const scaled = Math.round((cfg.qty * cfg.targetVol) / forecast.vol / QTY_STEP) * QTY_STEP;
  return Math.max(QTY_STEP, Math.min(cfg.qty, scaled));
}

function send(state: StrategyState, tick: Tick, side: Side, qty: number, ctx: ActorContext<StrategyConfig>): void {
  // The run and the incarnation in the id keep ids unique when a restarted strategy, or a new process, counts from 1 again.
  const run = ctx.config.run === undefined ? '' : `${ctx.config.run.slice(0, 8)}-`;
  const order: Order = { type: 'order', id: `${ctx.self}-${run}${ctx.incarnation}-${state.nextOrder++}`, symbol: tick.symbol, side, qty, px: tick.px };
  state.stats.orders++;
  // The ledger's note goes out before the order exists anywhere else: no order can slip past the count.
  ctx.send('ledger', { type: 'sent', id: order.id });
  ctx.send('risk', order);
}

export default defineActor<StrategyState, StrategyMsg, StrategyConfig>({
  init(ctx) {
    const state: StrategyState = {
      symbols: new Map(),
      nextOrder: 1,
      rnd: incarnationRng(ctx.config.seed, ctx.self, ctx.incarnation),
      indicatorUp: false,
      stats: { ticks: 0, bySubject: {}, direct: 0, orders: 0, sized: 0, unsized: 0, indicatorFailures: 0 },
    };
    // One ask now, not awaited, and orders wait for no forecast until it is answered. The
    // system makes the pool's reply ring into this actor when it first answers; a handler
    // awaiting that very first answer can miss it (its inbox files the new ring under mail,
    // not replies) and spin until the heartbeat kills it. Answered here, between messages,
    // it arrives safely, and the ring is there for every later incarnation too.
    const cfg = ctx.config.indicator;
    const up = (): void => void (state.indicatorUp = true);
    ctx.ask('indicator', { symbol: '-', prices: [1, 1], grid: 1 } satisfies IndicatorRequest, { timeout: Math.max(5000, cfg.timeoutMs) }).then(up, up);
    return state;
  },

  // Not async: only an order waits for the indicator; a tick that makes none is handled at once.
  receive(state, msg, ctx) {
    if (msg.type === 'stats') return state.stats;
    const tick = msg;
    const cfg = ctx.config;
    maybeFault(cfg.fault, state.rnd, `tick ${tick.symbol}#${tick.seq}`);
    const stats = state.stats;
    stats.ticks++;
    const topic = ctx.topic;
    if (topic === undefined) stats.direct++;
    else stats.bySubject[topic] = (stats.bySubject[topic] ?? 0) + 1;

    let view = state.symbols.get(tick.symbol);
    if (!view) state.symbols.set(tick.symbol, (view = { prices: [], trend: null, ticksInTrend: 0 }));
    view.prices.push(tick.px);
    if (view.prices.length > Math.max(cfg.longWindow, cfg.indicator.window)) view.prices.shift();
    // Until the long window is full the averages say nothing.
    if (view.prices.length < cfg.longWindow) return undefined;

    const diff = mean(view.prices, cfg.shortWindow) - mean(view.prices, cfg.longWindow);
    const trend: Side = diff >= 0 ? 'buy' : 'sell';
    let side: Side | null = null;
    if (trend !== view.trend) {
      // The first full window only sets the regime; trading starts at the next cross.
      if (view.trend !== null) side = trend;
      view.trend = trend;
      view.ticksInTrend = 0;
    } else if (++view.ticksInTrend % cfg.addEvery === 0) {
      side = trend;
    }
    if (side === null) return undefined;
    if (!state.indicatorUp) {
      stats.unsized++;
      send(state, tick, side, cfg.qty, ctx);
      return undefined;
    }
    const trade = side;
    return size(view, tick, state, ctx).then((qty) => send(state, tick, trade, qty, ctx));
  },
});
