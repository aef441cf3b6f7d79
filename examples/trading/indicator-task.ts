/**
 * The `indicator` pool's task: a GARCH(1,1) volatility forecast from a window
 * of recent prices. The model is fitted by brute force, every (α, β) on a
 * grid scored by its Gaussian likelihood over the window, so one request
 * costs grid² × window steps (about a millisecond at the example's settings).
 * That is work a stateful actor should not do on its own thread: the
 * strategy asks the pool instead, and any of the pool's threads answers.
 *
 * A pool's task module is a plain function (no actor, no state): it gets
 * the message and returns the reply; throwing answers the ask with the error.
 */

export interface IndicatorRequest {
  symbol: string;
  /** Recent prices, oldest first. */
  prices: number[];
  /** Grid points per parameter: cost grows with its square. */
  grid: number;
}

export interface IndicatorResult {
  symbol: string;
  /** Forecast standard deviation of the next tick's log return (0 when the window says nothing). */
  vol: number;
  /** The fitted reaction to the last move and persistence of variance. */
  alpha: number;
  beta: number;
  /** Returns the fit used. */
  returns: number;
}

/** α is searched in (0, MAX_ALPHA], β in [0, MAX_BETA); α + β stays below 1 (a stationary variance). */
const MAX_ALPHA = 0.3;
const MAX_BETA = 0.99;

export default function garchForecast(req: IndicatorRequest): IndicatorResult {
  const { symbol, prices, grid } = req ?? ({} as IndicatorRequest);
  if (!Array.isArray(prices) || !prices.every((p) => typeof p === 'number' && p > 0 && Number.isFinite(p))) {
    throw new TypeError('indicator: prices must be an array of positive numbers');
  }
  if (!Number.isInteger(grid) || grid < 1 || grid > 512) throw new TypeError('indicator: grid must be an integer from 1 to 512');

  const e: number[] = [];
  for (let i = 1; i < prices.length; i++) e.push(Math.log(prices[i]! / prices[i - 1]!));
  const n = e.length;
  let mean = 0;
  for (const x of e) mean += x / Math.max(1, n);
  let variance = 0;
  for (let i = 0; i < n; i++) {
    e[i] = e[i]! - mean;
    variance += (e[i]! * e[i]!) / n;
  }
  if (n < 2 || !(variance > 0)) return { symbol, vol: 0, alpha: 0, beta: 0, returns: n };

  let best = { nll: Infinity, alpha: 0, beta: 0, next: variance };
  for (let i = 1; i <= grid; i++) {
    const alpha = (MAX_ALPHA * i) / grid;
    for (let j = 0; j < grid; j++) {
      const beta = (MAX_BETA * j) / grid;
      if (alpha + beta >= 0.999) break;
      // Variance targeting: ω is chosen so the long-run variance is the window's.
      const omega = variance * (1 - alpha - beta);
      let s2 = variance;
      let nll = 0;
      for (let t = 0; t < n; t++) {
        const x = e[t]!;
        nll += Math.log(s2) + (x * x) / s2;
        s2 = omega + alpha * x * x + beta * s2;
      }
      // After the loop s2 is the forecast for the tick after the window.
      if (nll < best.nll) best = { nll, alpha, beta, next: s2 };
    }
  }
  return { symbol, vol: Math.sqrt(best.next), alpha: best.alpha, beta: best.beta, returns: n };
}
