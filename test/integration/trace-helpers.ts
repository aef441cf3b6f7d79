import { existsSync, readFileSync } from 'node:fs';
import type { SpanLine } from '../fixtures/tracing/setup.js';

/** The spans test/fixtures/tracing/setup.ts wrote to `file` (one JSON line each), from every thread and process. */
export function spansIn(file: string): SpanLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpanLine);
}
