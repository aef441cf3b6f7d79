/**
 * Pre-trade risk: a per-symbol position limit and a gross exposure limit.
 * Accepted orders go on to execution; rejected ones are booked with the
 * ledger. Risk counts an accepted order as filled at once, so its view runs
 * ahead of the portfolio, never behind. When execution cannot fill an order
 * (the exchange failed, or its breaker is open) it says so, and risk gives
 * back the room it had reserved. Only a restarted risk, rebuilt from the
 * portfolio, briefly misses the orders still in execution.
 */
import { defineActor, type ActorContext } from '../../src/actor/index.js';
import type { PortfolioSnapshot } from './portfolio.js';
import { incarnationRng, maybeFault, type FaultSpec, type Order, type Unfilled } from './shared.js';

export interface RiskConfig {
  maxPosition: number;
  maxExposure: number;
  seed: number;
  fault?: FaultSpec;
}

interface RiskState {
  positions: Map<string, number>;
  lastPx: Map<string, number>;
  /**
   * Signed quantities of the orders this incarnation accepted, oldest first,
   * so an `unfilled` note can undo exactly what was counted. An incarnation
   * rebuilt from the portfolio never counted the orders accepted before it,
   * so it ignores their notes. Bounded: an order this old has long settled.
   */
  reserved: Map<string, number>;
  accepted: number;
  rejected: number;
  unfilled: number;
  rnd: () => number;
}

const MAX_RESERVED = 10_000;

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

function release(state: RiskState, note: Unfilled): void {
  const signed = state.reserved.get(note.id);
  if (signed === undefined) return;
  state.reserved.delete(note.id);
  state.unfilled++;
  state.positions.set(note.symbol, (state.positions.get(note.symbol) ?? 0) - signed);
}

export default defineActor<RiskState, Order | Unfilled | { type: 'stats' }, RiskConfig>({
  init(ctx) {
    const state: RiskState = {
      positions: new Map(),
      lastPx: new Map(),
      reserved: new Map(),
      accepted: 0,
      rejected: 0,
      unfilled: 0,
      rnd: incarnationRng(ctx.config.seed, ctx.self, ctx.incarnation),
    };
    // The first incarnation starts before any fill exists: nothing to recover.
    return ctx.incarnation === 1 ? state : recover(state, ctx);
  },

  receive(state, msg, ctx) {
    if (msg.type === 'stats') return { accepted: state.accepted, rejected: state.rejected, unfilled: state.unfilled, positions: Object.fromEntries(state.positions) };
    if (msg.type === 'unfilled') {
      release(state, msg);
      return undefined;
    }
    maybeFault(ctx.config.fault, state.rnd, msg.id);
    state.lastPx.set(msg.symbol, msg.px);
    const why = check(state, msg, ctx.config);
    if (why !== null) {
      state.rejected++;
      ctx.send('ledger', { type: 'rejected', id: msg.id, reason: why });
      return undefined;
    }
    state.accepted++;
    const signed = msg.side === 'buy' ? msg.qty : -msg.qty;
    state.positions.set(msg.symbol, (state.positions.get(msg.symbol) ?? 0) + signed);
    state.reserved.set(msg.id, signed);
    if (state.reserved.size > MAX_RESERVED) state.reserved.delete(state.reserved.keys().next().value!);
    ctx.send('execution', msg);
    return undefined;
  },
});
