import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Envelope } from '../codec/envelope.js';
import { setTraceContext } from '../codec/trace-hook.js';
import { ModuleLoadError } from '../errors.js';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { nowMicros, readTrace, sentTrace } from './wire.js';

export { contextOf, currentTrace, readTrace, sentTrace } from './wire.js';

/** The tracer's name, as a span's instrumentation scope shows it. */
export const TRACER_NAME = 'ringmaster';
/** Turn tracing on in this thread: every send from now on carries the active trace context and its send time. */
export function enableTracing(): void {
  setTraceContext(sentTrace);
}

/** Systems of this thread that hold tracing on (each until its stop). */
let holders = 0;

/**
 * Tracing on in this thread for one system, until the function returned is
 * called (at its stop; a second call does nothing). The last holder's release
 * turns it off again, so a later system without tracing pays nothing and
 * sends no trace field.
 */
export function holdTracing(): () => void {
  holders++;
  enableTracing();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders <= 0) disableTracing();
  };
}

/** Turn it off in this thread, whoever holds it (tests; the last system with tracing that stops). */
export function disableTracing(): void {
  holders = 0;
  setTraceContext(null);
}

/** A worker's tracing, as its boot data carries it: the module that registers its SDK, if any. */
export interface TracingBoot {
  /** file: URL of a module imported before the actor's own (it registers a TracerProvider in that worker); null = none. */
  setup: string | null;
}

/**
 * Turn tracing on in a worker at boot: import the setup module, make sure a
 * context manager carries the active span across awaits (the setup's own if
 * it registered one), and return the tracer of the messages it handles.
 */
export async function startTracing(t: TracingBoot, site: HandlerSite): Promise<MessageTracer> {
  await setUpTracing(t, `actor '${site.actor}'`);
  enableTracing();
  return new MessageTracer(site);
}

/** Import the setup module (`who` names the worker in the error) and make sure a context manager is registered. */
export async function setUpTracing(t: TracingBoot, who: string): Promise<void> {
  if (t.setup !== null) {
    try {
      await import(t.setup);
    } catch (err) {
      throw new ModuleLoadError(`${who}: cannot load tracing.setup ${t.setup}: ${(err as Error).message}`, { cause: err });
    }
  }
  ensureContextManager();
}

/** Register an AsyncLocalStorage context manager unless one is (an SDK's `register()` brings its own). */
export function ensureContextManager(): void {
  const cm = new AsyncLocalStorageContextManager();
  if (context.setGlobalContextManager(cm)) cm.enable();
}

/** What a handled message's span says about where it ran. */
export interface HandlerSite {
  actor: string;
  incarnation: number;
}

/**
 * The span of each message one actor (or pool worker) handles: a child of the
 * sender's context, active while the handler runs, so the handler's own spans
 * and sends nest under it. Made only while tracing is on.
 */
export class MessageTracer {
  readonly #tracer: Tracer = trace.getTracer(TRACER_NAME);
  readonly #site: HandlerSite;

  constructor(site: HandlerSite) {
    this.#site = site;
  }

  /**
   * Run `fn(env)` inside the span of `env` (of `incarnation`, when the site's
   * changes: a pool's generations). `failure` reads a handler's error out of
   * a result that carries it as a value (a pool task's). A throw or a rejection marks the span as an error and goes
   * on to the caller as it was.
   */
  run<R>(env: Envelope, fn: (env: Envelope) => R, incarnation = this.#site.incarnation, failure?: (value: Awaited<R>) => unknown): R {
    const received = readTrace(env.trace);
    const span = this.#tracer.startSpan(
      `${this.#site.actor} ${env.kind}`,
      {
        kind: env.kind === 'tell' ? SpanKind.CONSUMER : SpanKind.SERVER,
        attributes: {
          'ringmaster.actor': this.#site.actor,
          'ringmaster.incarnation': incarnation,
          'ringmaster.message.kind': env.kind,
          'ringmaster.message.from': env.from,
          ...(env.topic === undefined ? {} : { 'ringmaster.message.topic': env.topic }),
          // From the send to the handler's start; clamped, as two threads' clocks can disagree by a few µs.
          ...(received.sentMicros === undefined ? {} : { 'ringmaster.queue_wait_ms': Math.max(0, nowMicros() - received.sentMicros) / 1000 }),
        },
      },
      received.parent,
    );
    const started = performance.now();
    let result: R;
    try {
      result = context.with(trace.setSpan(context.active(), span), fn, undefined, env);
    } catch (err) {
      end(span, started, err);
      throw err;
    }
    if (result instanceof Promise) {
      result.then(
        (v: Awaited<R>) => end(span, started, failure?.(v)),
        (err: unknown) => end(span, started, err),
      );
    } else end(span, started, undefined);
    return result;
  }

  /** The active span's ids, for the actor's log lines (pino's mixin). */
  logFields(): Record<string, string> {
    return traceFields();
  }
}

function end(span: Span, started: number, err: unknown): void {
  span.setAttribute('ringmaster.handler_ms', performance.now() - started);
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

/** pino's mixin for a traced actor's logger: the active span's ids on each line logged inside a handler. */
export function traceFields(): Record<string, string> {
  const sc = trace.getSpanContext(context.active());
  if (sc === undefined || !isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: `0${sc.traceFlags.toString(16)}`.slice(-2) };
}
