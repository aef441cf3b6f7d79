/**
 * The book: positions, cash, realised and unrealised P&L. Fills (from
 * execution) change it; ticks (from the `market.>` topics it subscribes to)
 * only re-mark it. Never faulted, so risk can rebuild its view from it after
 * a restart.
 */
import { defineActor } from '../../src/actor/index.js';
import type { Fill, Tick } from './shared.js';

export interface PortfolioConfig {
  startingCash: number;
}

export interface Position {
  qty: number;
  avgPx: number;
  mark: number;
}

export interface PortfolioSnapshot {
  positions: Record<string, Position>;
  cash: number;
  realised: number;
  unrealised: number;
  equity: number;
  fills: number;
}

interface PortfolioState {
  positions: Map<string, Position>;
  marks: Map<string, number>;
  cash: number;
  realised: number;
  fills: number;
}

type PortfolioMsg = Tick | Fill | { type: 'snapshot' };

const round = (x: number): number => Math.round(x * 100) / 100;

function applyFill(state: PortfolioState, fill: Fill): void {
  const signed = fill.side === 'buy' ? fill.qty : -fill.qty;
  const pos = state.positions.get(fill.symbol) ?? { qty: 0, avgPx: 0, mark: fill.px };
  state.cash -= signed * fill.px;
  if (pos.qty === 0 || Math.sign(pos.qty) === Math.sign(signed)) {
    // Adding to a position (or opening one): the average cost moves.
    pos.avgPx = (pos.avgPx * Math.abs(pos.qty) + fill.px * fill.qty) / (Math.abs(pos.qty) + fill.qty);
  } else {
    // Reducing: the closed part realises its P&L; a flip opens the rest at the fill price.
    const closed = Math.min(Math.abs(pos.qty), fill.qty);
    state.realised += closed * (fill.px - pos.avgPx) * Math.sign(pos.qty);
    if (fill.qty > Math.abs(pos.qty)) pos.avgPx = fill.px;
  }
  pos.qty += signed;
  if (pos.qty === 0) pos.avgPx = 0;
  pos.mark = state.marks.get(fill.symbol) ?? fill.px;
  state.positions.set(fill.symbol, pos);
  state.fills++;
}

function snapshot(state: PortfolioState): PortfolioSnapshot {
  const positions: Record<string, Position> = {};
  let unrealised = 0;
  let value = 0;
  for (const [symbol, p] of state.positions) {
    positions[symbol] = { qty: p.qty, avgPx: round(p.avgPx), mark: p.mark };
    unrealised += p.qty * (p.mark - p.avgPx);
    value += p.qty * p.mark;
  }
  const equity = state.cash + value;
  return { positions, cash: round(state.cash), realised: round(state.realised), unrealised: round(unrealised), equity: round(equity), fills: state.fills };
}

export default defineActor<PortfolioState, PortfolioMsg, PortfolioConfig>({
  init: (ctx) => ({ positions: new Map(), marks: new Map(), cash: ctx.config.startingCash, realised: 0, fills: 0 }),

  // Persistent: every fill is an event in the system's journal, so the positions, the cash and the
  // realised P&L survive a crash of the portfolio and a restart of the whole process (even a SIGKILL).
  // Marks are not kept: the next ticks bring them. No snapshots: the state holds Maps, which the
  // journal's rows would give back as plain objects; replaying the fills is quick.
  persistence: {
    apply(state, fill: Fill) {
      applyFill(state, fill);
      return state;
    },
  },

  async receive(state, msg, ctx) {
    switch (msg.type) {
      case 'tick': {
        state.marks.set(msg.symbol, msg.px);
        const pos = state.positions.get(msg.symbol);
        if (pos) pos.mark = msg.px;
        return undefined;
      }
      case 'fill':
        await ctx.persist(msg);
        return undefined;
      case 'snapshot':
        return snapshot(state);
      default:
        return undefined;
    }
  },
});
