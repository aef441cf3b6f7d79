/**
 * Pre-trade risk: a per-symbol position limit and a gross exposure limit.
 * Accepted orders go on to execution; rejected ones are booked with the
 * ledger. Risk counts an accepted order as filled at once (execution fills
 * every order in full), so its view runs ahead of the portfolio, never
 * behind; only a restarted risk, rebuilt from the portfolio, briefly misses
 * the orders still in execution.
 */
import { defineActor, type ActorContext } from '../../src/actor/index.js';
import type { PortfolioSnapshot } from './portfolio.js';
import { incarnationRng, maybeFault, type FaultSpec, type Order } from './shared.js';

export interface RiskConfig {
  maxPosition: number;
  maxExposure: number;
  seed: number;
  fault?: FaultSpec;
}

interface RiskState {
  positions: Map<string, number>;
  lastPx: Map<string, number>;
  accepted: number;
  rejected: number;
  rnd: () => number;
}

function exposure(state: RiskState): number {
  let gross = 0;
  for (const [symbol, qty] of state.positions) gross += Math.abs(qty) * (state.lastPx.get(symbol) ?? 0);
  return gross;
}

/** Why the order breaks a limit, or null when it may go. */
function check(state: RiskState, order: Order, cfg: RiskConfig): string | null {
  const before = state.positions.get(order.symbol) ?? 0;
  const after = before + (order.side === 'buy' ? order.qty : -order.qty);
  // An order that brings a position towards zero always passes: blocking it would trap the book.
  if (Math.abs(after) < Math.abs(before)) return null;
  if (Math.abs(after) > cfg.maxPosition) return `position ${order.symbol} would be ${after} (limit ±${cfg.maxPosition})`;
  const added = (Math.abs(after) - Math.abs(before)) * order.px;
  const gross = exposure(state) + added;
  if (gross > cfg.maxExposure) return `exposure would be ${Math.round(gross)} (limit ${cfg.maxExposure})`;
  return null;
}

/**
 * A restarted incarnation has lost its positions: rebuild them from the
 * portfolio before taking the first order, so limits hold across a crash.
 */
async function recover(state: RiskState, ctx: ActorContext<RiskConfig>): Promise<RiskState> {
  try {
    const snap = await ctx.ask<PortfolioSnapshot>('portfolio', { type: 'snapshot' }, { timeout: 1000 });
    for (const [symbol, p] of Object.entries(snap.positions)) {
      state.positions.set(symbol, p.qty);
      state.lastPx.set(symbol, p.mark);
    }
  } catch (err) {
    // Starting flat is the risky direction, so say so; the limits still apply from here on.
    ctx.log.warn({ err: (err as Error).message }, 'could not recover positions; starting flat');
  }
  return state;
}

export default defineActor<RiskState, Order | { type: 'stats' }, RiskConfig>({
  init(ctx) {
    const state: RiskState = {
      positions: new Map(),
      lastPx: new Map(),
      accepted: 0,
      rejected: 0,
      rnd: incarnationRng(ctx.config.seed, ctx.self, ctx.incarnation),
    };
    // The first incarnation starts before any fill exists: nothing to recover.
    return ctx.incarnation === 1 ? state : recover(state, ctx);
  },

  receive(state, msg, ctx) {
    if (msg.type === 'stats') return { accepted: state.accepted, rejected: state.rejected, positions: Object.fromEntries(state.positions) };
    maybeFault(ctx.config.fault, state.rnd, msg.id);
    state.lastPx.set(msg.symbol, msg.px);
    const why = check(state, msg, ctx.config);
    if (why !== null) {
      state.rejected++;
      ctx.send('ledger', { type: 'rejected', id: msg.id, reason: why });
      return undefined;
    }
    state.accepted++;
    state.positions.set(msg.symbol, (state.positions.get(msg.symbol) ?? 0) + (msg.side === 'buy' ? msg.qty : -msg.qty));
    ctx.send('execution', msg);
    return undefined;
  },
});
