import {
  ActorCrashedError,
  ActorStoppedError,
  AskTimeoutError,
  MailboxFullError,
  ModuleLoadError,
  NoSuchActorError,
  RingmasterError,
  type CrashCause,
  type ErrorCode,
  type OverflowPolicy,
} from '../errors.js';

/** An error as it crosses a thread boundary (structured-clone and msgpack safe). */
export interface WireError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  actor?: string;
  crash?: CrashCause;
  reason?: string;
  incarnation?: number;
  timeoutMs?: number;
  policy?: string;
  /** The error's `cause`, as far as MAX_CAUSES deep. */
  cause?: WireError;
}

/** How deep a `cause` chain crosses a thread (deeper causes, and a cycle, are cut off). */
export const MAX_CAUSES = 8;

/** `String(v)`, for anything: an object without a prototype (no toString) or with a throwing one becomes a description, not a throw. */
export function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    try {
      return `[${Object.prototype.toString.call(v).slice(8, -1)} ${JSON.stringify(v)}]`;
    } catch {
      return '[an unprintable value]';
    }
  }
}

export function toWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: safeString(err) };
  const e = err as Error & Partial<WireError>;
  const w: WireError = { name: e.name, message: e.message };
  if (e.stack !== undefined) w.stack = e.stack;
  if (typeof e.code === 'string') w.code = e.code;
  for (const k of ['actor', 'crash', 'reason', 'incarnation', 'timeoutMs', 'policy'] as const) {
    if (e[k] !== undefined) (w as unknown as Record<string, unknown>)[k] = e[k];
  }
  if (e.cause !== undefined && e.cause !== err && depth < MAX_CAUSES) w.cause = toWire(e.cause, depth + 1);
  return w;
}

/** An error's stack followed by its causes' (`Caused by: …`, as far as MAX_CAUSES deep): what a crash report shows. */
export function stackWithCauses(err: Error): string | undefined {
  if (err.stack === undefined) return undefined;
  let text = err.stack;
  let cause: unknown = err.cause;
  for (let i = 0; i < MAX_CAUSES && cause !== undefined && cause !== err; i++) {
    text += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : safeString(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

/** Rebuild the typed error a WireError stands for (unknown kinds become a plain Error), with its cause chain. */
export function fromWire(w: WireError): Error {
  const e = rebuild(w);
  // No stack came across (a thrown non-Error): this thread's would point at the wrong code.
  if (w.stack === undefined) e.stack = `${e.name}: ${e.message}`;
  if (w.cause !== undefined) Object.defineProperty(e, 'cause', { value: fromWire(w.cause), writable: true, configurable: true, enumerable: false });
  return e;
}

function rebuild(w: WireError): Error {
  switch (w.code) {
    case 'ERR_ACTOR_CRASHED':
      return new ActorCrashedError(w.actor ?? '?', w.crash ?? 'exception', w.reason ?? w.message, w.incarnation ?? 0);
    case 'ERR_ACTOR_STOPPED':
      return new ActorStoppedError(w.actor ?? '?', stripActor(w));
    case 'ERR_NO_SUCH_ACTOR':
      return new NoSuchActorError(w.actor ?? '?', 'ask');
    case 'ERR_MAILBOX_FULL':
      if (w.policy && w.actor) {
        const e = new MailboxFullError(w.actor, w.policy as OverflowPolicy, '');
        e.message = w.message;
        return e;
      }
      break;
    case 'ERR_ASK_TIMEOUT':
      return new AskTimeoutError(w.actor ?? '?', w.timeoutMs ?? 0);
    case 'ERR_MODULE_LOAD': {
      const e = new ModuleLoadError(w.message);
      if (w.stack) e.stack = w.stack;
      return e;
    }
  }
  const e = w.code ? new RingmasterError(w.code as ErrorCode, w.message) : new Error(w.message);
  e.name = w.name;
  if (w.stack) e.stack = w.stack;
  return e;
}

function stripActor(w: WireError): string {
  const prefix = `actor '${w.actor}' `;
  return w.message.startsWith(prefix) ? w.message.slice(prefix.length) : w.message;
}
