/**
 * Market data: a seeded random walk per symbol, published as ticks on
 * `market.<SYMBOL>`. The feed does not know who listens: the strategy (for
 * signals) and the portfolio (to mark positions) subscribe to `market.>` in
 * the tree, and a publish goes straight from this thread into each
 * subscriber's ring. A timer paces it, so the feed keeps ticking while no
 * message arrives.
 */
import { defineActor } from '../../src/actor/index.js';
import { marketSubject, mulberry32, type Tick } from './shared.js';

export interface FeedConfig {
  symbols: string[];
  ticksPerSecond: number;
  seed: number;
  /** Standard deviation of one tick's relative move. */
  volatility: number;
  startPx: number;
}

/** The feed's answer to `{ type: 'stats' }`. */
export interface FeedStats {
  ticks: number;
  /** Ticks that reached no subscriber (counted by the system too, as the feed's `unrouted`). */
  unrouted: number;
  px: number[];
}

interface FeedState {
  px: number[];
  emitted: number;
  unrouted: number;
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
      unrouted: 0,
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
        if (ctx.publish(marketSubject(tick.symbol), tick) === 0) state.unrouted++;
      }
    }, STEP_MS);
    ctx.log.info({ symbols: cfg.symbols, ticksPerSecond: cfg.ticksPerSecond }, 'feed up');
    return state;
  },

  receive(state, msg) {
    if (msg.type === 'stats') return { ticks: state.emitted, unrouted: state.unrouted, px: state.px.map((p) => Math.round(p * 100) / 100) } satisfies FeedStats;
    return undefined;
  },

  stop(state, ctx) {
    // Without this the interval would keep the stopping worker busy sending.
    clearInterval(state.timer);
    ctx.log.info({ ticks: state.emitted }, 'feed stopped');
  },
});
