/**
 * Messages that travel between the trading actors, the topics market data is
 * published on, the seeded random numbers they use, and the fault switch that
 * makes a stage crash or hang (or the exchange go down) on purpose. Imported
 * by every stage, so it holds no actor of its own.
 */

export type Side = 'buy' | 'sell';

/** Market data is published per symbol on `market.<SYMBOL>` (a symbol must be one subject token: no dots). */
export const marketSubject = (symbol: string): string => `market.${symbol}`;
/** What a consumer of every symbol subscribes to. */
export const ALL_MARKETS = 'market.>';
/** The execution actor publishes its exchange breaker's transitions here. */
export const BREAKER_SUBJECT = 'exchange.breaker';

export interface Tick {
  type: 'tick';
  symbol: string;
  px: number;
  seq: number;
}

export interface Order {
  type: 'order';
  id: string;
  symbol: string;
  side: Side;
  qty: number;
  px: number;
}

export interface Fill {
  type: 'fill';
  orderId: string;
  symbol: string;
  side: Side;
  qty: number;
  px: number;
}

/** Execution to risk: this order was not filled, so the room risk reserved for it is free again. */
export interface Unfilled {
  type: 'unfilled';
  id: string;
  symbol: string;
  side: Side;
  qty: number;
}

/** A transition of the exchange breaker, as execution publishes it on {@link BREAKER_SUBJECT}. */
export interface BreakerNote {
  type: 'breaker';
  state: 'open' | 'half-open' | 'closed';
  /** Why it opened (`consecutive-failures`, `failure-rate`, `probe-failed`) or closed (`probes-succeeded`). */
  reason?: string;
  /** Epoch ms of the next probe, while open. */
  nextProbeAt?: number | null;
  /** The error that tripped it. */
  error?: string;
  incarnation: number;
  at: number;
}

/** What the ledger is told: one note per order and outcome. */
export type LedgerNote = { type: 'sent'; id: string } | { type: 'rejected'; id: string; reason: string } | { type: 'filled'; id: string };

/**
 * Per-stage faults. Rates are per delivery, so a redelivered message usually
 * gets through; `poisonRate` picks orders by id, so those crash every time
 * and end as dead letters once `maxRedeliveries` is used up.
 */
export interface FaultSpec {
  crashRate?: number;
  hangRate?: number;
  poisonRate?: number;
  /**
   * Execution only: the chance per exchange call that the simulated exchange
   * goes down for `exchangeOutageMs`. While it is down every call times out,
   * which is what opens the exchange breaker.
   */
  exchangeOutageRate?: number;
  /** How long one outage lasts, ms (default 2000). */
  exchangeOutageMs?: number;
}

export type Faults = Partial<Record<'strategy' | 'risk' | 'execution', FaultSpec>>;

/** Small, fast, seedable: runs with the same seed see the same ticks. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable number in [0, 1) for a string, so a poison order is poison in every incarnation. */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // FNV alone clusters on ids that differ only in their last digits; this final mix spreads them.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * Called first thing in a handler, before anything is sent: a crash there
 * leaves no half-done work behind, so the redelivered message is handled as
 * if for the first time.
 */
export function maybeFault(spec: FaultSpec | undefined, rnd: () => number, key: string): void {
  if (!spec) return;
  if (spec.poisonRate && unitHash(key) < spec.poisonRate) throw new Error(`injected poison: ${key} always crashes this stage`);
  if (spec.crashRate && rnd() < spec.crashRate) throw new Error(`injected crash while handling ${key}`);
  // Blocks the event loop for good: only the heartbeat watchdog can end it.
  if (spec.hangRate && rnd() < spec.hangRate) for (;;);
}

/** Each incarnation draws its own fault stream, yet a run stays reproducible from the seed. */
export function incarnationRng(seed: number, self: string, incarnation: number): () => number {
  return mulberry32(seed ^ (unitHash(self) * 4294967296) ^ Math.imul(incarnation, 0x9e3779b1));
}
