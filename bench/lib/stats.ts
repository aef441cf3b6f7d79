import { build } from 'hdr-histogram-js';

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
}

export interface LatencySummary extends Percentiles {
  n: number;
  mean: number;
  max: number;
}

/**
 * Percentiles of latency samples given in µs. Samples are recorded as whole
 * nanoseconds with 3 significant digits, so a 1.234 µs value keeps its last
 * digit. The pure-JS histogram is used: the wasm one needs an async init and
 * gains nothing at these sample counts.
 */
export function summarize(samplesUs: ArrayLike<number>): LatencySummary {
  const h = build({ bitBucketSize: 64, autoResize: true, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  let sum = 0;
  for (let i = 0; i < samplesUs.length; i++) {
    const us = samplesUs[i]!;
    sum += us;
    h.recordValue(Math.max(1, Math.round(us * 1000)));
  }
  const at = (p: number): number => round2(h.getValueAtPercentile(p) / 1000);
  const out = {
    n: samplesUs.length,
    p50: at(50),
    p99: at(99),
    p999: at(99.9),
    mean: round2(samplesUs.length ? sum / samplesUs.length : NaN),
    max: round2(h.maxValue / 1000),
  };
  h.destroy();
  return out;
}

export function pct(s: LatencySummary | null): Percentiles | null {
  return s && { p50: s.p50, p99: s.p99, p999: s.p999 };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
