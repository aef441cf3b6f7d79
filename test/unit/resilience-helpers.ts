// Shared pieces of the resilience tests: a fake clock per test, hand-settled promises, metric read-back.
import { install } from '@sinonjs/fake-timers';
import type { Registry } from 'prom-client';

export type Clock = ReturnType<typeof install>;

/** Installs a fake clock (Date, timers, performance) before each test of the suite and removes it after. */
export function useFakeClock(): { readonly clock: Clock } {
  const holder = {} as { clock: Clock };
  beforeEach(() => {
    holder.clock = install({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    holder.clock.uninstall();
  });
  return holder;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let pending promise callbacks run (no timers). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** The rejection of `p` (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a value');
}

/** The value of one series of a metric, read back from the registry as Prometheus would scrape it. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>, sampleName = name): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name} in the registry`);
  const { values } = await metric.get();
  const hit = values.find((v) => ((v as { metricName?: string }).metricName ?? name) === sampleName && matches(v.labels, labels));
  if (!hit) throw new Error(`no sample ${sampleName} ${JSON.stringify(labels)}`);
  return hit.value;
}

function matches(have: Record<string, unknown>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => String(have[k]) === v);
}

export const fail = (message = 'boom'): (() => never) => () => {
  throw new Error(message);
};
