import type { CircuitRejection } from '../errors.js';
import type { RetryExhaustion } from './errors.js';

/** A breaker's state as the toolkit reports it. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Every event a resilience policy reports, as one union on `type`; `name` is the policy's name, `at` epoch ms. */
export type ResilienceEvent =
  | { type: 'breaker-opened'; name: string; reason: 'consecutive-failures' | 'failure-rate' | 'probe-failed' | 'isolated'; nextProbeAt: number | null; error: unknown; at: number }
  | { type: 'breaker-half-open'; name: string; at: number }
  | { type: 'breaker-closed'; name: string; reason: 'probes-succeeded' | 'released' | 'reset'; at: number }
  | { type: 'breaker-rejected'; name: string; state: CircuitRejection; nextProbeAt: number | null; at: number }
  | { type: 'retry-attempt'; name: string; attempt: number; delayMs: number; error: unknown; at: number }
  | { type: 'retry-exhausted'; name: string; attempts: number; reason: RetryExhaustion; error: unknown; at: number }
  | { type: 'timeout'; name: string; timeoutMs: number; at: number }
  | { type: 'bulkhead-rejected'; name: string; active: number; queued: number; at: number }
  | { type: 'rate-limited'; name: string; key: string; retryAfterMs: number; at: number }
  | { type: 'fallback-used'; name: string; to: 'alternative' | 'value'; index: number; error: unknown; at: number }
  | { type: 'cache-hit'; name: string; key: unknown; at: number }
  | { type: 'cache-miss'; name: string; key: unknown; coalesced: boolean; at: number }
  | { type: 'cache-evicted'; name: string; key: unknown; reason: 'size' | 'ttl'; at: number }
  | { type: 'saga-step-completed'; name: string; step: string; at: number }
  | { type: 'saga-step-failed'; name: string; step: string; error: unknown; at: number }
  | { type: 'saga-step-compensated'; name: string; step: string; at: number }
  | { type: 'saga-compensation-failed'; name: string; step: string; error: unknown; at: number }
  | { type: 'saga-completed'; name: string; at: number }
  | { type: 'saga-compensated'; name: string; failedStep: string; at: number }
  | { type: 'saga-failed'; name: string; failedStep: string; failedCompensations: string[]; at: number };

export type ResilienceEventType = ResilienceEvent['type'];
/** The events whose type starts with a prefix, e.g. `EventsOf<'breaker-'>`. */
export type EventsOf<P extends string> = Extract<ResilienceEvent, { type: `${P}${string}` }>;
/** An event before the emitter stamps its time. */
export type Unstamped<E> = E extends unknown ? Omit<E, 'at'> : never;

type AnyListener = (e: ResilienceEvent) => void;

/**
 * The typed listeners of one policy. A listener that throws is reported as
 * a process warning and never disturbs the call that emitted the event.
 */
export class PolicyEvents<E extends ResilienceEvent> {
  readonly #listeners = new Map<string, Set<AnyListener>>();

  /** Listen to one type, or to all of this policy's events with '*'; returns the unsubscribe function. */
  on(type: '*', listener: (e: E) => void): () => void;
  on<T extends E['type']>(type: T, listener: (e: Extract<E, { type: T }>) => void): () => void;
  on(type: string, listener: (e: never) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    const l = listener as AnyListener;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  emit(input: Unstamped<E>): void {
    if (this.#listeners.size === 0) return;
    const e = { ...input, at: Date.now() } as unknown as ResilienceEvent;
    for (const l of this.#listeners.get(e.type) ?? []) this.#call(l, e);
    for (const l of this.#listeners.get('*') ?? []) this.#call(l, e);
  }

  #call(l: AnyListener, e: ResilienceEvent): void {
    try {
      l(e);
    } catch (err) {
      process.emitWarning(`a listener for '${e.type}' events threw: ${(err as Error)?.message ?? String(err)}`, 'RingmasterListenerWarning');
    }
  }
}
