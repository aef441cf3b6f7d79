import { context, createTraceState, isSpanContextValid, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';

/**
 * The envelope's `trace` field, one line each:
 *
 *     traceparent            W3C, as this side writes it (version 00)
 *     sent                   when it was sent: µs since the epoch, digits only (only a send stamps it)
 *     tracestate             W3C, when not empty
 *
 * Only `traceparent` is required; a second line of digits is the send time,
 * any other the tracestate (a tracestate always holds a `=`). The send time
 * is the wall clock (`performance.timeOrigin + performance.now()`), not the
 * monotonic one: a frame forwarded to another cluster node keeps its field.
 */
const VERSION = '00';
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const DIGITS = /^\d{1,16}$/;

/** Now, µs since the epoch, on the clock every thread of the process shares. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The active span's context as `traceparent[\ntracestate]`, or undefined when there is no valid one. */
export function currentTrace(): string | undefined {
  return field(undefined);
}

/** What a send carries while tracing is on: the active span's context and the send time, or undefined without a valid span. */
export function sentTrace(): string | undefined {
  return field(nowMicros());
}

function field(sent: number | undefined): string | undefined {
  const sc = trace.getSpanContext(context.active());
  if (sc === undefined || !isSpanContextValid(sc)) return undefined;
  const parent = `${VERSION}-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const state = sc.traceState?.serialize();
  const head = sent === undefined ? parent : `${parent}\n${sent}`;
  return state ? `${head}\n${state}` : head;
}

/** A received `trace` field: the context it names (a remote parent; the root context when it names none) and its send time. */
export interface ReceivedTrace {
  parent: Context;
  /** µs since the epoch; undefined when the field has none. */
  sentMicros: number | undefined;
}

const NONE: ReceivedTrace = { parent: ROOT_CONTEXT, sentMicros: undefined };

export function readTrace(f: string | undefined): ReceivedTrace {
  if (f === undefined) return NONE;
  const nl = f.indexOf('\n');
  let sentMicros: number | undefined;
  let state: string | undefined;
  if (nl >= 0) {
    // After the traceparent: the send time, then the tracestate; either may be missing.
    const nl2 = f.indexOf('\n', nl + 1);
    const second = nl2 < 0 ? f.slice(nl + 1) : f.slice(nl + 1, nl2);
    if (DIGITS.test(second)) {
      sentMicros = Number(second);
      if (nl2 >= 0) state = f.slice(nl2 + 1);
    } else state = f.slice(nl + 1);
  }
  const m = TRACEPARENT.exec(nl < 0 ? f : f.slice(0, nl));
  if (m === null || m[1] === 'ff') return { parent: ROOT_CONTEXT, sentMicros };
  const sc = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16), isRemote: true, traceState: state === undefined ? undefined : createTraceState(state) };
  return { parent: isSpanContextValid(sc) ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT, sentMicros };
}

/** The context a received `trace` field names (a remote parent), or the root context when it names none. */
export function contextOf(f: string | undefined): Context {
  return readTrace(f).parent;
}
