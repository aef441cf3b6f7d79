/** What every executed function is handed: at least the signal that tells it to stop. */
export interface PolicyContext {
  signal: AbortSignal;
}

/**
 * The shape all policies share (cockatiel's IPolicy without its events):
 * run `fn` under the policy. `signal` cancels the call; the function gets
 * a context whose `signal` aborts when the caller's does (or, in a timeout,
 * when time runs out).
 */
export interface Policy<C extends PolicyContext = PolicyContext> {
  execute<T>(fn: (context: C) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
}

/** Anything with a policy's execute, whatever it returns (a fallback may return its own value type). */
export interface ExecutablePolicy<C extends PolicyContext = PolicyContext> {
  execute(fn: (context: C) => unknown, signal?: AbortSignal): Promise<unknown>;
}

type ContextOf<P> = P extends ExecutablePolicy<infer C> ? C : never;
type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** The context a wrapped function gets: every wrapped policy's context merged. */
export type MergedContext<Ps extends readonly unknown[]> = Intersect<ContextOf<Ps[number]>> & PolicyContext;

/** A policy made of others, outermost first. */
export interface WrappedPolicy<C extends PolicyContext> extends Policy<C> {
  readonly policies: readonly ExecutablePolicy[];
}

/**
 * Compose policies, outermost first: `wrap(retry, breaker, timeout)` runs
 * `retry.execute(() => breaker.execute(() => timeout.execute(fn)))`, the
 * way cockatiel's `wrap` does, with each policy's context merged into the
 * one `fn` receives (`{ signal, attempt }` here). cockatiel policies can be
 * wrapped too. Ours: cockatiel's `wrap` accepts only its own policy type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a policy of any context may be composed
export function wrap<Ps extends ExecutablePolicy<any>[]>(...policies: Ps): WrappedPolicy<MergedContext<Ps>> {
  const list: readonly ExecutablePolicy[] = [...policies];
  return {
    policies: list,
    execute<T>(fn: (context: MergedContext<Ps>) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      const run = (context: PolicyContext, i: number): Promise<T> =>
        i === list.length
          ? Promise.resolve(fn(context as MergedContext<Ps>))
          : (list[i]!.execute((inner: PolicyContext) => run({ ...context, ...inner }, i + 1), context.signal) as Promise<T>);
      return run({ signal: signal ?? new AbortController().signal }, 0);
    },
  };
}

/** A signal that never aborts, for calls made without one. */
export const NEVER: AbortSignal = new AbortController().signal;

/**
 * `promise`, or the signal's reason as soon as it aborts (whichever comes
 * first). The promise keeps running; its later rejection is marked handled.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal || signal === NEVER) return promise;
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Wait `ms`; rejects with the signal's reason (and clears the timer) if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A controller that aborts when `parent` does, and a function that detaches
 * it from the parent (call it when the call settles, so a long-lived parent
 * signal does not collect listeners).
 */
export function childController(parent: AbortSignal | undefined): { controller: AbortController; detach: () => void } {
  const controller = new AbortController();
  if (!parent) return { controller, detach: () => undefined };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, detach: () => undefined };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, detach: () => parent.removeEventListener('abort', onAbort) };
}
