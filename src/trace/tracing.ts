import { context, createTraceState, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Envelope } from '../codec/envelope.js';
import { setTraceContext } from '../codec/trace-hook.js';
import { ModuleLoadError } from '../errors.js';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/** The tracer's name, as a span's instrumentation scope shows it. */
export const TRACER_NAME = 'ringmaster';
/** W3C trace context version this side writes. */
const VERSION = '00';
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The active span's context as `traceparent[\ntracestate]`, or undefined when there is no valid one. */
export function currentTrace(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  if (sc === undefined || !isSpanContextValid(sc)) return undefined;
  const parent = `${VERSION}-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const state = sc.traceState?.serialize();
  return state ? `${parent}\n${state}` : parent;
}

/** The context a received `trace` field names (a remote parent), or the root context when it names none. */
export function contextOf(field: string | undefined): Context {
  if (field === undefined) return ROOT_CONTEXT;
  const nl = field.indexOf('\n');
  const m = TRACEPARENT.exec(nl < 0 ? field : field.slice(0, nl));
  if (m === null || m[1] === 'ff') return ROOT_CONTEXT;
  const sc = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16), isRemote: true, traceState: nl < 0 ? undefined : createTraceState(field.slice(nl + 1)) };
  return isSpanContextValid(sc) ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** Turn tracing on in this thread: every send from now on carries the active trace context. */
export function enableTracing(): void {
  setTraceContext(currentTrace);
}

/** Turn it off again (tests; a system that stops). */
export function disableTracing(): void {
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
  if (t.setup !== null) {
    try {
      await import(t.setup);
    } catch (err) {
      throw new ModuleLoadError(`actor '${site.actor}': cannot load tracing.setup ${t.setup}: ${(err as Error).message}`, { cause: err });
    }
  }
  ensureContextManager();
  enableTracing();
  return new MessageTracer(site);
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
        },
      },
      contextOf(env.trace),
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
