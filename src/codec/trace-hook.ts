/**
 * Where a sender gets the trace context of the code that sends: null while
 * tracing is off in this thread (the default), so every send pays one
 * comparison and nothing else. src/trace/ installs the function once at boot
 * when tracing is on; it returns undefined when no valid span is active.
 */
export let traceContext: (() => string | undefined) | null = null;

/** Install (or, with null, remove) this thread's trace context source. */
export function setTraceContext(source: (() => string | undefined) | null): void {
  traceContext = source;
}
