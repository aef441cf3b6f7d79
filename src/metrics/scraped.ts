import { validateMetricName, type Metric, type Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';

export type ScrapedKind = 'counter' | 'gauge' | 'histogram';
export type Labels = Record<string, string | number>;

/** One exposition line: `metricName` is set for a histogram's `_bucket`, `_sum` and `_count` lines. */
export interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric when it serialises it. */
export interface ScrapedMetricObject {
  name: string;
  help: string;
  type: ScrapedKind;
  aggregator: 'sum';
  values: Sample[];
}

/**
 * A metric whose values are read from the system when the registry is
 * scraped. prom-client's own Counter and Histogram keep state that callers
 * add to; here the system already owns monotonic counters (and per-bucket
 * histogram counts), so copying them into prom-client objects would be
 * per-scrape bookkeeping with nothing gained — and Histogram has no setter.
 */
export class ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: ScrapedKind;
  readonly aggregator = 'sum' as const;
  readonly #read: () => Sample[];

  constructor(name: string, help: string, type: ScrapedKind, read: () => Sample[]) {
    if (!validateMetricName(name)) throw new InvalidOptionError('name', `'${name}' is not a valid Prometheus metric name`);
    this.name = name;
    this.help = help;
    this.type = type;
    this.#read = read;
  }

  get(): Promise<ScrapedMetricObject> {
    try {
      return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#read() });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** `Registry.resetMetrics()` calls this; the numbers belong to the system, so there is nothing to reset. */
  reset(): void {}

  registerIn(registry: Registry): void {
    // The Registry is typed for prom-client's own classes but only calls get(), reset() and reads name/type.
    registry.registerMetric(this as unknown as Metric);
  }
}

/**
 * The exposition lines of one histogram series from per-bucket (not
 * cumulative) counts: `counts[i]` observations fell at or under
 * `bounds[i]`, and the last count is past every bound.
 */
export function histogramSamples(name: string, labels: Labels, bounds: readonly number[], counts: readonly number[], sum: number): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    cumulative += counts[i] ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bounds[i]! }, value: cumulative });
  }
  cumulative += counts[bounds.length] ?? 0;
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: cumulative });
  return out;
}

/**
 * Memoise `take` for one scrape. The Registry calls every metric's get()
 * in one synchronous pass, so a snapshot dropped at the next microtask is
 * shared by all metrics of a scrape (consistent numbers, one read of the
 * system), while the next scrape reads afresh.
 */
export function oncePerScrape<T>(take: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => {
    if (!cached) {
      cached = { value: take() };
      queueMicrotask(() => (cached = null));
    }
    return cached.value;
  };
}
