/**
 * Tracing on for one ring-peer thread (`TRANSPORT_TRACING=1 npm run
 * bench:transport`): the SDK records every span and exports none, so the
 * figures are ringmaster's part of the cost (reading the active context,
 * writing and parsing the trace field, a span per handled message), not an
 * exporter's. The sending side runs inside one span of its own.
 */
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { Envelope } from '../../src/index.js';
import { currentTrace, ensureContextManager, MessageTracer } from '../../src/trace/tracing.js';

export interface BenchTracing {
  /** The trace field of a send from the active span. */
  stamp: () => string | undefined;
  /** `handle`, each call inside the span of the message it handles. */
  handler: (handle: (env: Envelope) => void) => (env: Envelope) => void;
  /** Run `fn` with the thread's own span active. */
  active: (fn: () => void) => void;
}

export function benchTracing(role: string): BenchTracing {
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  ensureContextManager();
  const span = trace.getTracer('bench').startSpan(`${role} run`);
  const ctx = trace.setSpan(context.active(), span);
  const tracer = new MessageTracer({ actor: role, incarnation: 1 });
  return {
    stamp: currentTrace,
    handler: (handle) => (env) => tracer.run(env, handle),
    active: (fn) => context.with(ctx, fn),
  };
}
