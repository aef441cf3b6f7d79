/**
 * Signals from ticks: a short/long moving-average cross per symbol. A cross
 * opens an order in its direction; while the trend lasts the strategy adds to
 * it every `addEvery` ticks, which is what eventually runs into risk limits.
 */
import { defineActor } from '../../src/actor/index.js';
import { incarnationRng, maybeFault, type FaultSpec, type Order, type Side, type Tick } from './shared.js';

export interface StrategyConfig {
  shortWindow: number;
  longWindow: number;
  qty: number;
  addEvery: number;
  seed: number;
  fault?: FaultSpec;
}

interface SymbolView {
  window: number[];
  trend: Side | null;
  ticksInTrend: number;
}

interface StrategyState {
  symbols: Map<string, SymbolView>;
  nextOrder: number;
  rnd: () => number;
}

const mean = (xs: number[], from: number): number => {
  let sum = 0;
  for (let i = from; i < xs.length; i++) sum += xs[i]!;
  return sum / (xs.length - from);
};

export default defineActor<StrategyState, Tick, StrategyConfig>({
  init: (ctx) => ({
    symbols: new Map(),
    nextOrder: 1,
    rnd: incarnationRng(ctx.config.seed, ctx.self, ctx.incarnation),
  }),

  receive(state, tick, ctx) {
    const cfg = ctx.config;
    maybeFault(cfg.fault, state.rnd, `tick ${tick.symbol}#${tick.seq}`);
    let view = state.symbols.get(tick.symbol);
    if (!view) state.symbols.set(tick.symbol, (view = { window: [], trend: null, ticksInTrend: 0 }));
    view.window.push(tick.px);
    if (view.window.length > cfg.longWindow) view.window.shift();
    // Until the long window is full the averages say nothing.
    if (view.window.length < cfg.longWindow) return;

    const diff = mean(view.window, cfg.longWindow - cfg.shortWindow) - mean(view.window, 0);
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
    if (side === null) return;

    // The incarnation in the id keeps ids unique when a restarted strategy counts from 1 again.
    const order: Order = { type: 'order', id: `${ctx.self}-${ctx.incarnation}-${state.nextOrder++}`, symbol: tick.symbol, side, qty: cfg.qty, px: tick.px };
    // The ledger's note goes out before the order exists anywhere else: no order can slip past the count.
    ctx.send('ledger', { type: 'sent', id: order.id });
    ctx.send('risk', order);
  },
});
