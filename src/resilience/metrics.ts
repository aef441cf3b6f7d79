import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every resilience metric name starts with it. */
export const RESILIENCE_METRIC_PREFIX = 'ringmaster_resilience_';

/**
 * Where policies register their metrics unless given a `registry` option.
 * One per module instance, so one per thread: an actor's policies count in
 * its worker's registry. The system merges it into its own for /metrics
 * (`Registry.merge([system, resilienceRegistry])`).
 */
export const resilienceRegistry = new Registry();

/** Bucket bounds (seconds) of the duration histograms: 1 ms to 30 s. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Kind = 'counter' | 'gauge' | 'histogram';
type Made = { counter: Counter<string>; gauge: Gauge<string>; histogram: Histogram<string> };

/**
 * The metric `name` in `registry`, created on first use. Policies of one
 * kind share a metric and tell themselves apart by their `name` label, so
 * two policies with the same name in one registry add up (and share gauges).
 */
function metric<K extends Kind>(kind: K, registry: Registry, suffix: string, help: string, labelNames: readonly string[]): Made[K] {
  const name = `${RESILIENCE_METRIC_PREFIX}${suffix}`;
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as unknown as Made[K];
  const config = { name, help, labelNames: ['name', ...labelNames], registers: [registry] };
  if (kind === 'counter') return new Counter(config) as Made[K];
  if (kind === 'gauge') return new Gauge(config) as Made[K];
  return new Histogram({ ...config, buckets: DURATION_BUCKETS_SECONDS }) as Made[K];
}

export function counter(registry: Registry, suffix: string, help: string, labelNames: readonly string[] = []): Counter<string> {
  return metric('counter', registry, suffix, help, labelNames);
}

export function gauge(registry: Registry, suffix: string, help: string, labelNames: readonly string[] = []): Gauge<string> {
  return metric('gauge', registry, suffix, help, labelNames);
}

export function histogram(registry: Registry, suffix: string, help: string, labelNames: readonly string[] = []): Histogram<string> {
  return metric('histogram', registry, suffix, help, labelNames);
}

/**
 * Expose each of `values` of a labelled counter at 0 from the start, so a
 * series exists before its first increment and rate() sees the first one.
 */
export function zeroes(c: Counter<string>, name: string, label?: string, values: readonly string[] = []): void {
  if (!label) c.inc({ name }, 0);
  for (const v of values) c.inc({ name, [label!]: v }, 0);
}

/** Seconds elapsed since `start` (a performance.now() reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
