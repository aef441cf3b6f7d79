/**
 * Execution: each order is placed on a simulated exchange through a circuit
 * breaker, then filled in full, in slices of at most `lotSize`, each at the
 * order's price moved against us by a random slippage of up to
 * `slippageBps`. Every slice goes to the portfolio (to book it); the ledger
 * hears once per order, after the last slice, so it counts orders and not
 * slices.
 *
 * The breaker guards the pipeline against a failing exchange: a call that
 * fails (the venue refuses, or does not answer within `exchange.timeoutMs`)
 * counts against it, and once it opens, orders are rejected at once with
 * reason `circuit open…` instead of each waiting for a timeout. After
 * `breaker.halfOpenAfterMs` one order goes through as a probe: its success
 * closes the circuit, its failure opens it again. An order the exchange did
 * not take is booked as rejected with the ledger, and risk is told so it
 * frees the room it reserved. Transitions are logged and published on
 * `exchange.breaker`.
 */
import { defineActor, type ActorContext } from '../../src/actor/index.js';
import { CircuitBreaker, CircuitOpenError, ExecutionTimeoutError, Timeout, wrap, type BreakerEvent } from '../../src/resilience/index.js';
import { SimulatedExchange, type ExchangeConfig } from './exchange.js';
import { BREAKER_SUBJECT, incarnationRng, maybeFault, type BreakerNote, type FaultSpec, type Fill, type Order, type Unfilled } from './shared.js';

export interface BreakerConfig {
  /** Failed calls in a row that open the circuit. */
  consecutiveFailures: number;
  /** How long it stays open before a probe, ms. */
  halfOpenAfterMs: number;
}

export interface ExecutionConfig {
  slippageBps: number;
  lotSize: number;
  exchange: ExchangeConfig;
  breaker: BreakerConfig;
  seed: number;
  fault?: FaultSpec;
}

/** What `{ type: 'stats' }` answers (this incarnation's figures). */
export interface ExecutionStats {
  filled: number;
  notional: number;
  slippageCost: number;
  breaker: CircuitBreaker['state'];
  /** Calls that reached the exchange, and of those the ones that failed. */
  exchangeCalls: number;
  exchangeFailures: number;
  /** Orders rejected by the open circuit without calling the exchange. */
  shortCircuited: number;
  breakerOpened: number;
}

interface Guard {
  breaker: CircuitBreaker;
  policy: { execute<T>(fn: (c: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> };
  /** The settings it was built from, to rebuild it when they change. */
  key: string;
}

interface ExecutionState {
  filled: number;
  notional: number;
  slippageCost: number;
  exchangeCalls: number;
  exchangeFailures: number;
  shortCircuited: number;
  breakerOpened: number;
  rnd: () => number;
  exchange: SimulatedExchange;
  guard: Guard;
}

type ExecutionMsg = Order | { type: 'stats' };

const keyOf = (cfg: ExecutionConfig): string => JSON.stringify([cfg.breaker, cfg.exchange.timeoutMs]);

/**
 * The breaker wraps a timeout, so a call the exchange never answers fails
 * after `timeoutMs` and counts against the circuit like a refusal.
 */
function guard(state: Pick<ExecutionState, 'breakerOpened'>, ctx: ActorContext<ExecutionConfig>): Guard {
  const cfg = ctx.config;
  // A probe succeeding once is enough to close: the simulated exchange is either down or up.
  const breaker = new CircuitBreaker({ name: 'exchange', consecutiveFailures: cfg.breaker.consecutiveFailures, halfOpenAfterMs: cfg.breaker.halfOpenAfterMs });
  const timeout = new Timeout({ name: 'exchange', timeoutMs: cfg.exchange.timeoutMs });
  breaker.on('*', (e: BreakerEvent) => {
    let note: BreakerNote;
    const base = { type: 'breaker', incarnation: ctx.incarnation, at: e.at } as const;
    switch (e.type) {
      case 'breaker-opened':
        state.breakerOpened++;
        note = { ...base, state: 'open', reason: e.reason, nextProbeAt: e.nextProbeAt, error: e.error instanceof Error ? e.error.message : String(e.error) };
        ctx.log.warn({ breaker: e.name, reason: e.reason, nextProbeAt: e.nextProbeAt, error: note.error }, 'exchange breaker opened: rejecting orders until a probe succeeds');
        break;
      case 'breaker-half-open':
        note = { ...base, state: 'half-open' };
        ctx.log.info({ breaker: e.name }, 'exchange breaker half-open: the next order is a probe');
        break;
      case 'breaker-closed':
        note = { ...base, state: 'closed', reason: e.reason };
        ctx.log.info({ breaker: e.name, reason: e.reason }, 'exchange breaker closed');
        break;
      default:
        return; // rejections are counted per order, not logged one by one
    }
    ctx.publish(BREAKER_SUBJECT, note);
  });
  return { breaker, policy: wrap(breaker, timeout), key: keyOf(cfg) };
}

/** Why the exchange did not take the order, as the ledger books it (the first word is the kind). */
function reasonOf(err: unknown): string {
  if (err instanceof CircuitOpenError) {
    const probe = err.nextProbeAt === null ? 'a probe is in flight' : `next probe in ${Math.max(0, err.nextProbeAt - Date.now())} ms`;
    return `circuit ${err.state}: the exchange breaker rejects orders (${probe})`;
  }
  if (err instanceof ExecutionTimeoutError) return `exchange did not answer within ${err.timeoutMs} ms`;
  return `exchange failed: ${(err as Error).message}`;
}

function fill(state: ExecutionState, order: Order, ctx: ActorContext<ExecutionConfig>): void {
  const cfg = ctx.config;
  const against = order.side === 'buy' ? 1 : -1;
  for (let left = order.qty; left > 0; ) {
    const qty = Math.min(left, Math.max(1, cfg.lotSize));
    left -= qty;
    const slip = (cfg.slippageBps / 10_000) * state.rnd();
    const px = Math.round(order.px * (1 + against * slip) * 10_000) / 10_000;
    const f: Fill = { type: 'fill', orderId: order.id, symbol: order.symbol, side: order.side, qty, px };
    state.notional += px * qty;
    state.slippageCost += Math.abs(px - order.px) * qty;
    ctx.send('portfolio', f);
  }
  state.filled++;
}

export default defineActor<ExecutionState, ExecutionMsg, ExecutionConfig>({
  init(ctx) {
    const rnd = incarnationRng(ctx.config.seed, ctx.self, ctx.incarnation);
    const state = { filled: 0, notional: 0, slippageCost: 0, exchangeCalls: 0, exchangeFailures: 0, shortCircuited: 0, breakerOpened: 0, rnd, exchange: new SimulatedExchange(rnd) };
    // A new incarnation starts with a closed circuit: the breaker lives in this thread.
    return Object.assign(state, { guard: guard(state, ctx) });
  },

  async receive(state, msg, ctx) {
    if (msg.type === 'stats') {
      return {
        filled: state.filled,
        notional: Math.round(state.notional),
        slippageCost: Math.round(state.slippageCost * 100) / 100,
        breaker: state.guard.breaker.state,
        exchangeCalls: state.exchangeCalls,
        exchangeFailures: state.exchangeFailures,
        shortCircuited: state.shortCircuited,
        breakerOpened: state.breakerOpened,
      } satisfies ExecutionStats;
    }
    const cfg = ctx.config;
    maybeFault(cfg.fault, state.rnd, msg.id);
    let called = false;
    try {
      await state.guard.policy.execute(({ signal }) => {
        called = true;
        state.exchangeCalls++;
        return state.exchange.place(msg, ctx.config.exchange, ctx.config.fault, signal);
      });
    } catch (err) {
      if (called) state.exchangeFailures++;
      else state.shortCircuited++;
      const unfilled: Unfilled = { type: 'unfilled', id: msg.id, symbol: msg.symbol, side: msg.side, qty: msg.qty };
      ctx.send('risk', unfilled);
      ctx.send('ledger', { type: 'rejected', id: msg.id, reason: reasonOf(err) });
      return undefined;
    }
    fill(state, msg, ctx);
    // The order leaves the inbox only once every note is in its receiver's ring. Should the
    // thread die before that, the order comes back and is filled again: the ledger counts it
    // once and reports the repeat as a duplicate.
    ctx.send('ledger', { type: 'filled', id: msg.id });
    return undefined;
  },

  configure(state, config, ctx) {
    // The exchange's rates apply from the next call; new breaker or timeout settings need new policies.
    if (keyOf(config) !== state.guard.key) state.guard = guard(state, ctx);
  },

  health(state) {
    const b = state.guard.breaker;
    const details = { breaker: b.state, nextProbeAt: b.nextProbeAt, exchangeCalls: state.exchangeCalls, exchangeFailures: state.exchangeFailures, shortCircuited: state.shortCircuited };
    // An open circuit means orders are being turned away: worth a look, not a restart.
    return { status: b.state === 'closed' ? 'healthy' : 'degraded', details };
  },
});
