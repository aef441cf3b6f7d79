import type { Percentiles } from './stats.js';

/** One row of bench/results/transport.json, exactly the documented shape. */
export interface ResultRow {
  transport: 'ringmaster' | 'postMessage' | 'piscina' | 'comlink';
  oneWayUs: Percentiles | null;
  rttUs: Percentiles;
  throughputPerSec: number;
  cpuUsPerMsg: number;
}

const fmtPct = (p: Percentiles | null): string => (p ? `${fmt(p.p50)} / ${fmt(p.p99)} / ${fmt(p.p999)}` : 'n/a');

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** A plain-text table: the first row is the header, columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export function resultsTable(rows: ResultRow[], exclPacing: Map<string, number>): string {
  return table([
    ['transport', 'one-way p50/p99/p99.9 µs', 'RTT p50/p99/p99.9 µs', 'throughput msgs/s', 'CPU µs/msg', 'CPU µs/msg excl. pacing'],
    ...rows.map((r) => [
      r.transport,
      fmtPct(r.oneWayUs),
      fmtPct(r.rttUs),
      fmtInt(r.throughputPerSec),
      fmt(r.cpuUsPerMsg),
      fmt(exclPacing.get(r.transport) ?? r.cpuUsPerMsg),
    ]),
  ]);
}

export function check(label: string, ok: boolean, measured: string): string {
  return `  [${ok ? 'met' : 'MISSED'}] ${label}: ${measured}`;
}
