/**
 * Market data: a seeded random walk per symbol, sent as ticks to the strategy
 * (for signals) and to the portfolio (to mark positions). A timer paces it,
 * so the feed keeps ticking while no message arrives.
 */
import { defineActor } from '../../src/actor/index.js';
import { mulberry32, type Tick } from './shared.js';

export interface FeedConfig {
  symbols: string[];
  ticksPerSecond: number;
  seed: number;
  /** Standard deviation of one tick's relative move. */
  volatility: number;
  startPx: number;
  /** Who gets every tick. */
  subscribers: string[];
}

interface FeedState {
  px: number[];
  emitted: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** Pacing granularity: fine enough to look smooth, coarse enough to batch at high rates. */
const STEP_MS = 10;

export default defineActor<FeedState, { type: 'stats' }, FeedConfig>({
  init(ctx) {
    const cfg = ctx.config;
    // A restarted feed replays the same walk from the seed: the run stays reproducible.
    const rnd = mulberry32(cfg.seed);
    const gauss = (): number => {
      const u = Math.max(rnd(), 1e-12);
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    };
    const state: FeedState = {
      px: cfg.symbols.map((_, i) => cfg.startPx * (1 + i * 0.25)),
      emitted: 0,
      startedAt: Date.now(),
      timer: undefined,
    };
    state.timer = setInterval(() => {
      // Catch up on whatever the timer fell behind by, rather than drift slower.
      const due = Math.floor(((Date.now() - state.startedAt) * cfg.ticksPerSecond) / 1000);
      while (state.emitted < due) {
        const i = state.emitted % cfg.symbols.length;
        const px = Math.max(0.01, state.px[i]! * (1 + cfg.volatility * gauss()));
        state.px[i] = px;
        const tick: Tick = { type: 'tick', symbol: cfg.symbols[i]!, px: Math.round(px * 100) / 100, seq: state.emitted++ };
        for (const to of cfg.subscribers) ctx.send(to, tick);
      }
    }, STEP_MS);
    ctx.log.info({ symbols: cfg.symbols, ticksPerSecond: cfg.ticksPerSecond }, 'feed up');
    return state;
  },

  receive(state, msg) {
    if (msg.type === 'stats') return { ticks: state.emitted, px: state.px.map((p) => Math.round(p * 100) / 100) };
    return undefined;
  },

  stop(state, ctx) {
    // Without this the interval would keep the stopping worker busy sending.
    clearInterval(state.timer);
    ctx.log.info({ ticks: state.emitted }, 'feed stopped');
  },
});
