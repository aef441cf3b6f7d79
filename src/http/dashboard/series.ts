import type { ActorMetrics } from '../../system/snapshot.js';

/** One actor's figures at one sample: rates over the interval since the previous sample, the rest as read. */
export interface ActorPoint {
  /** Messages handled per second; null for the first sample of an actor or after a counter went back (wrap, new actor). */
  in: number | null;
  /** Messages sent per second (tells, asks, replies). */
  out: number | null;
  /** Handler duration percentiles over the interval, ms; null when no message finished in it. */
  p50: number | null;
  p99: number | null;
  inbox: number;
  heapMb: number;
  heartbeatAgeMs: number | null;
  cpuPct: number;
}

/** Every actor's figures at time `t` (epoch ms). */
export interface Point {
  t: number;
  actors: Record<string, ActorPoint>;
}

interface Counters {
  received: number;
  sent: number;
  counts: number[];
}

/**
 * The quantile `q` (0..1) of a histogram given as per-bucket counts (not
 * cumulative; the last bucket is +Inf) with upper bounds in seconds, in ms.
 * Interpolates linearly inside the bucket the quantile falls in, as
 * Prometheus' histogram_quantile does; one in the +Inf bucket is reported
 * as the largest finite bound. Null when the histogram is empty.
 */
export function quantileMs(boundsSeconds: readonly number[], counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && below + n >= rank) {
      if (i >= boundsSeconds.length) return boundsSeconds[boundsSeconds.length - 1]! * 1000;
      const lower = i === 0 ? 0 : boundsSeconds[i - 1]!;
      const upper = boundsSeconds[i]!;
      return (lower + (upper - lower) * Math.max(0, rank - below) / n) * 1000;
    }
    below += n;
  }
  return boundsSeconds[boundsSeconds.length - 1]! * 1000;
}

/** Rounds to 3 significant digits: the charts and the page show no more, and the JSON stays short. */
const sig3 = (x: number): number => (x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(3)));

/**
 * Turns successive reads of system.metrics() into points: rates and
 * latency percentiles come from the difference between two reads (the
 * system's counters only grow, across incarnations too), so each point
 * describes its interval and not the actor's whole life.
 */
export class Sampler {
  #prev = new Map<string, Counters>();
  #prevAt = 0;

  take(actors: readonly ActorMetrics[], now: number): Point {
    const dt = (now - this.#prevAt) / 1000;
    const next = new Map<string, Counters>();
    const point: Point = { t: now, actors: {} };
    for (const a of actors) {
      const cur: Counters = { received: a.received, sent: a.sent, counts: a.handler.counts.slice() };
      next.set(a.id, cur);
      const prev = this.#prev.get(a.id);
      const rate = (x: number, y: number | undefined): number | null => (y === undefined || x < y || dt <= 0 ? null : sig3((x - y) / dt));
      let p50: number | null = null;
      let p99: number | null = null;
      if (prev && prev.counts.length === cur.counts.length) {
        const delta = cur.counts.map((n, i) => n - prev.counts[i]!);
        if (delta.every((n) => n >= 0)) {
          const q50 = quantileMs(a.handler.boundsSeconds, delta, 0.5);
          const q99 = quantileMs(a.handler.boundsSeconds, delta, 0.99);
          p50 = q50 === null ? null : sig3(q50);
          p99 = q99 === null ? null : sig3(q99);
        }
      }
      point.actors[a.id] = {
        in: rate(cur.received, prev?.received),
        out: rate(cur.sent, prev?.sent),
        p50,
        p99,
        inbox: a.inboxDepth,
        heapMb: a.heapUsedMb,
        heartbeatAgeMs: a.heartbeatAgeMs === null ? null : Math.round(a.heartbeatAgeMs),
        cpuPct: a.cpuPct,
      };
    }
    // Actors that left are forgotten: one that comes back under the same id starts without a rate.
    this.#prev = next;
    this.#prevAt = now;
    return point;
  }
}
