import { expose, transferHandlers, wrap, type Endpoint, type Remote } from 'comlink';
import type { Envelope } from '../codec/envelope.js';
import { DecodeError, InvalidOptionError } from '../errors.js';
import { fromWire, toWire, type WireError } from './wire-error.js';

/**
 * Typed proxies: comlink's proxy, carried by ringmaster's rings instead of
 * `postMessage`.
 *
 * comlink speaks through an `Endpoint` (postMessage + 'message' events).
 * The caller's endpoint turns each comlink request into a `call` envelope
 * (an ask answered by the actor's `api` object rather than `receive`), so a
 * call gets everything an ask has: the direct ring, priorities, mailbox
 * policy, redelivery after a crash, and a settled promise in every case.
 * A call that fails in transport (timeout, crash, stopped) is answered
 * locally with a comlink "throw" response, so the proxy's promise rejects
 * with that error instead of hanging.
 *
 * What crosses is msgpack, not structured clone: arguments and results must
 * be plain data; comlink.proxy() callbacks and transferables are not
 * supported (they need a MessageChannel).
 */

/** An ask carrying one comlink message; resolves with comlink's response message. */
export type CallFn = (msg: unknown) => Promise<unknown>;

type Listener = (ev: { data: unknown }) => void;

const REQUEST_TYPES = new Set(['GET', 'SET', 'APPLY', 'CONSTRUCT', 'ENDPOINT', 'RELEASE']);

/** Fields of our errors kept when comlink carries a thrown error across (it keeps only message, name, stack). */
const ERROR_FIELDS = ['code', 'actor', 'crash', 'reason', 'incarnation', 'timeoutMs', 'policy', 'topic'] as const;

let errorsInstalled = false;

/**
 * Widen comlink's "throw" handler to carry `code` and the other fields of
 * RingmasterError, so `err.code` survives a proxy call. comlink keeps its
 * handlers in one global map; this only adds fields to what it sends.
 */
function installErrorFields(): void {
  if (errorsInstalled) return;
  errorsInstalled = true;
  const base = transferHandlers.get('throw')!;
  transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown: unknown) {
      const [wire, transfer] = base.serialize(thrown);
      const value = (thrown as { value?: unknown }).value;
      const w = wire as { isError?: boolean; value?: Record<string, unknown> };
      if (w.isError && value instanceof Error && w.value) {
        for (const k of ERROR_FIELDS) {
          const v = (value as unknown as Record<string, unknown>)[k];
          if (v !== undefined) w.value[k] = v;
        }
        // The cause chain, as crashes carry it (rebuilt as errors on the caller's side).
        if (value.cause !== undefined) w.value.cause = toWire(value.cause);
      }
      return [wire, transfer];
    },
    deserialize(serialized: unknown) {
      // A failure settled on this side (timeout, crash, stopped) rejects with the error itself, class and cause intact.
      const local = (serialized as { local?: unknown } | null)?.local;
      if (local instanceof Error) throw local;
      const s = serialized as { isError?: boolean; value?: { cause?: WireError } } | null;
      const cause = s?.isError ? s.value?.cause : undefined;
      if (cause === undefined) return base.deserialize(serialized);
      try {
        return base.deserialize(serialized);
      } catch (err) {
        if (err instanceof Error) Object.defineProperty(err, 'cause', { value: fromWire(cause), writable: true, configurable: true, enumerable: false });
        throw err;
      }
    },
  });
}

class ListenerSet {
  readonly #listeners = new Set<Listener>();
  add(type: string, l: unknown): void {
    if (type === 'message' && typeof l === 'function') this.#listeners.add(l as Listener);
  }
  remove(type: string, l: unknown): void {
    if (type === 'message') this.#listeners.delete(l as Listener);
  }
  get size(): number {
    return this.#listeners.size;
  }
  dispatch(data: unknown): void {
    for (const l of [...this.#listeners]) l({ data });
  }
}

/**
 * A comlink "throw" response to request `id`, for a call that never reached
 * an answer. `local`: the response stays in this thread (it is never
 * encoded), so it carries the error object itself and the caller's promise
 * rejects with it.
 */
export function throwResponse(id: unknown, err: unknown, local = false): unknown {
  // An actor without an api answers calls with this, and has no proxy or ApiServer that would have installed it.
  installErrorFields();
  const [wire] = transferHandlers.get('throw')!.serialize({ value: err });
  return { id, type: 'HANDLER', name: 'throw', value: local && err instanceof Error ? { ...(wire as object), local: err } : wire };
}

/**
 * What a method threw, read from the comlink response that answers its call
 * (an Error with the thrown error's name and message; a thrown non-error as
 * it was), or undefined when the call returned a value. A traced call's span
 * reads it to mark itself as an error: such a call is answered, not crashed.
 */
export function callFailure(response: unknown): unknown {
  const r = response as { type?: unknown; name?: unknown; value?: { isError?: boolean; value?: unknown } } | null;
  if (r === null || typeof r !== 'object' || r.type !== 'HANDLER' || r.name !== 'throw') return undefined;
  const thrown = r.value?.value;
  if (!r.value?.isError) return thrown ?? 'undefined';
  const { name, message } = (thrown ?? {}) as { name?: unknown; message?: unknown };
  const err = new Error(typeof message === 'string' ? message : 'the method threw');
  if (typeof name === 'string') err.name = name;
  return err;
}

/** The caller's end: comlink's requests become `call` asks to one actor. */
class CallerEndpoint {
  readonly #call: CallFn;
  readonly #listeners = new ListenerSet();

  constructor(call: CallFn) {
    this.#call = call;
  }

  postMessage(msg: unknown): void {
    const id = (msg as { id?: unknown }).id;
    this.#call(msg).then(
      (response) => this.#listeners.dispatch(response),
      (err: unknown) => this.#listeners.dispatch(throwResponse(id, err, true)),
    );
  }

  addEventListener(type: string, l: unknown): void {
    this.#listeners.add(type, l);
  }

  removeEventListener(type: string, l: unknown): void {
    this.#listeners.remove(type, l);
  }
}

/** A typed proxy to an actor's `api`, calling through `call`. */
export function makeProxy<T>(call: CallFn): Remote<T> {
  installErrorFields();
  return wrap<T>(new CallerEndpoint(call) as unknown as Endpoint);
}

/** The actor's end: one comlink `expose` per calling thread, fed the `call` envelopes from it. */
class CalleeEndpoint {
  readonly listeners = new ListenerSet();
  readonly #waiting = new Map<unknown, (response: unknown) => void>();

  /** Hand comlink one request; resolves with its response. */
  request(msg: unknown): Promise<unknown> {
    const { id, type } = (msg ?? {}) as { id?: unknown; type?: unknown };
    // comlink ignores what it does not know without answering: answer it here, or the call would hang.
    if (id === undefined || typeof type !== 'string' || !REQUEST_TYPES.has(type)) {
      return Promise.resolve(throwResponse(id, new DecodeError(`call payload is not a comlink request (type ${String(type)})`)));
    }
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.listeners.dispatch(msg);
    });
  }

  postMessage(response: unknown): void {
    const id = (response as { id?: unknown }).id;
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(response);
  }

  addEventListener(type: string, l: unknown): void {
    this.listeners.add(type, l);
  }

  removeEventListener(type: string, l: unknown): void {
    this.listeners.remove(type, l);
  }
}

/**
 * `api` as comlink sees it when its errors crash the actor: every method
 * (nested objects' too) reports what it throws or rejects with to `onThrow`
 * before comlink turns it into the caller's rejection.
 */
function reporting(api: object, onThrow: (err: unknown) => void, seen = new WeakMap<object, object>()): object {
  // One proxy per object, so comlink's `parent` of a nested method is the same proxy the method was read through.
  const known = seen.get(api);
  if (known) return known;
  // An empty target: the traps read and write `api`, so a frozen api (whose
  // properties a proxy of it would have to return unwrapped) is served too.
  const proxy: object = new Proxy(Object.create(null) as object, {
    has: (_, prop) => Reflect.has(api, prop),
    set: (_, prop, value) => Reflect.set(api, prop, value),
    get(_, prop, receiver) {
      const v: unknown = Reflect.get(api, prop);
      if (typeof v === 'function') {
        return function (this: unknown, ...args: unknown[]): unknown {
          try {
            // Called on the proxy, a method runs on `api` itself: a class's #private fields are there, and its
            // calls of its own methods do not come back through here (an error it catches is not reported).
            const r: unknown = (v as (...a: unknown[]) => unknown).apply(this === receiver ? api : this, args);
            if (r instanceof Promise) {
              return r.catch((err: unknown) => {
                onThrow(err);
                throw err;
              });
            }
            return r;
          } catch (err) {
            onThrow(err);
            throw err;
          }
        };
      }
      return typeof v === 'object' && v !== null ? reporting(v, onThrow, seen) : v;
    },
  });
  seen.set(api, proxy);
  return proxy;
}

/** Serves `call` envelopes against an actor's api object. */
export class ApiServer {
  readonly #api: object;
  readonly #peers = new Map<string, CalleeEndpoint>();
  /** What a method threw in the call being served, when errors crash the actor. */
  #thrown: { err: unknown } | null = null;

  /** `crash`: a method's error is not the caller's answer but the actor's crash (`handle` rejects with it). */
  constructor(api: object, errors: 'reply' | 'crash' = 'reply') {
    installErrorFields();
    this.#api = errors === 'crash' ? reporting(api, (err) => (this.#thrown ??= { err })) : api;
  }

  /** Answer one call; resolves with the comlink response to send back (a thrown error is inside it, or, when errors crash the actor, the rejection). */
  handle(env: Envelope): Promise<unknown> {
    let ep = this.#peers.get(env.from);
    // comlink detaches its listener after a RELEASE: a later proxy from the same peer gets a fresh one.
    if (!ep || ep.listeners.size === 0) {
      ep = new CalleeEndpoint();
      this.#peers.set(env.from, ep);
      expose(this.#api, ep as unknown as Endpoint);
    }
    this.#thrown = null;
    return ep.request(env.payload).then((response) => {
      const thrown = this.#thrown;
      this.#thrown = null;
      if (thrown) throw thrown.err;
      return response;
    });
  }
}

export type { Remote } from 'comlink';

/** A typed-proxy call to an actor: its api answers; without one, the caller's promise rejects naming what is missing. */
export function callApi(api: ApiServer | null, actor: string, env: Envelope): Promise<unknown> {
  if (api) return api.handle(env);
  const id = (env.payload as { id?: unknown } | null)?.id;
  const err = new InvalidOptionError(`actor '${actor}'`, 'has no api: give defineActor() an api(state, ctx) to call it through a proxy');
  return Promise.resolve(throwResponse(id, err));
}
