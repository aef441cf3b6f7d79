/**
 * A simulated venue: every order is filled in full, in slices of at most
 * `lotSize`, each at the order's price moved against us by a random slippage
 * of up to `slippageBps`. Every slice goes to the portfolio (to book it); the
 * ledger hears once per order, after the last slice, so it counts orders and
 * not slices.
 */
import { defineActor } from '../../src/actor/index.js';
import { incarnationRng, maybeFault, type FaultSpec, type Fill, type Order } from './shared.js';

export interface ExecutionConfig {
  slippageBps: number;
  lotSize: number;
  seed: number;
  fault?: FaultSpec;
}

interface ExecutionState {
  filled: number;
  notional: number;
  slippageCost: number;
  rnd: () => number;
}

type ExecutionMsg = Order | { type: 'stats' };

export default defineActor<ExecutionState, ExecutionMsg, ExecutionConfig>({
  init: (ctx) => ({ filled: 0, notional: 0, slippageCost: 0, rnd: incarnationRng(ctx.config.seed, ctx.self, ctx.incarnation) }),

  receive(state, msg, ctx) {
    if (msg.type === 'stats') {
      return { filled: state.filled, notional: Math.round(state.notional), slippageCost: Math.round(state.slippageCost * 100) / 100 };
    }
    const cfg = ctx.config;
    maybeFault(cfg.fault, state.rnd, msg.id);
    const against = msg.side === 'buy' ? 1 : -1;
    for (let left = msg.qty; left > 0; ) {
      const qty = Math.min(left, Math.max(1, cfg.lotSize));
      left -= qty;
      const slip = (cfg.slippageBps / 10_000) * state.rnd();
      const px = Math.round(msg.px * (1 + against * slip) * 10_000) / 10_000;
      const fill: Fill = { type: 'fill', orderId: msg.id, symbol: msg.symbol, side: msg.side, qty, px };
      state.notional += px * qty;
      state.slippageCost += Math.abs(px - msg.px) * qty;
      ctx.send('portfolio', fill);
    }
    state.filled++;
    // The order leaves the inbox only once every note is in its receiver's ring. Should the
    // thread die before that, the order comes back and is filled again: the ledger counts it
    // once and reports the repeat as a duplicate.
    ctx.send('ledger', { type: 'filled', id: msg.id });
    return undefined;
  },
});
