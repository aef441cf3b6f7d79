import { fallback, handleWhen } from 'cockatiel';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, resilienceRegistry, zeroes } from './metrics.js';
import { commonFields, fn, parseOptions } from './options.js';
import type { PolicyContext } from './policy.js';

/** What an alternative gets: the signal, and the error of the step before it. */
export interface FallbackContext extends PolicyContext {
  error: unknown;
}

export type FallbackAlternative<T> = (context: FallbackContext) => PromiseLike<T> | T;

export interface FallbackOptions<T> {
  name?: string;
  registry?: Registry;
  /** Tried in order after the primary function fails. */
  alternatives?: FallbackAlternative<T>[];
  /** Returned when the primary and every alternative failed; without it, the last error is thrown. */
  value?: T;
  /** Which errors move on to the next step (default: all); any other is thrown at once. */
  handles?: (error: unknown) => boolean;
}

export interface ResolvedFallbackOptions<T> {
  name: string;
  registry: Registry;
  alternatives: readonly FallbackAlternative<T>[];
  /** Whether `value` was given (undefined is a value too). */
  hasValue: boolean;
  value: T | undefined;
  handles: (error: unknown) => boolean;
}

export type FallbackEvent = EventsOf<'fallback-'>;

const schema = z
  .strictObject({
    ...commonFields,
    alternatives: z.array(fn<FallbackAlternative<unknown>>(), { error: 'must be an array of functions' }).optional(),
    value: z.unknown().optional(),
    handles: fn<(error: unknown) => boolean>().optional(),
  })
  .superRefine((o, ctx) => {
    // A value given as undefined is still a value: presence is what counts.
    if (!('value' in o) && (o.alternatives ?? []).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['alternatives'], message: 'must hold at least one function when no value is given', input: o.alternatives });
    }
  });

/**
 * A fallback chain: the primary function, then each alternative in turn,
 * then a value. Each link is a cockatiel fallback policy (which handles the
 * errors `handles` picks and calls the next link instead); ours is the
 * chain itself, handing each alternative the error before it, and not
 * falling back once the caller aborted.
 */
export class Fallback<T> {
  readonly options: Readonly<ResolvedFallbackOptions<T>>;
  readonly on: PolicyEvents<FallbackEvent>['on'];
  readonly #events = new PolicyEvents<FallbackEvent>();
  readonly #calls;

  constructor(options: FallbackOptions<T> = {}) {
    const o = parseOptions(schema, options, 'fallback');
    const hasValue = 'value' in o;
    this.options = Object.freeze({
      name: o.name ?? 'fallback',
      registry: o.registry ?? resilienceRegistry,
      alternatives: Object.freeze([...(o.alternatives ?? [])]) as readonly FallbackAlternative<T>[],
      hasValue,
      value: o.value as T | undefined,
      handles: o.handles ?? (() => true),
    });
    this.on = this.#events.on.bind(this.#events);
    this.#calls = counter(this.options.registry, 'fallback_calls_total', 'Calls through a fallback chain by the step that served them: primary, alternative-N, value, or none (all failed).', [
      'served_by',
    ]);
    const steps = this.options.alternatives.map((_, i) => `alternative-${i + 1}`);
    zeroes(this.#calls, this.name, 'served_by', ['primary', ...steps, ...(hasValue ? ['value'] : []), 'none']);
  }

  get name(): string {
    return this.options.name;
  }

  async execute<R>(primary: (context: PolicyContext) => PromiseLike<R> | R, signal?: AbortSignal): Promise<R | T> {
    const o = this.options;
    const steps: FallbackAlternative<R | T>[] = [primary, ...o.alternatives];
    let error: unknown;
    let served = 'none';
    // Once the caller has aborted, a failure is the abort, not a reason to try something else.
    const handles = handleWhen((e) => !signal?.aborted && o.handles(e));
    const run =
      (i: number) =>
      async (context: PolicyContext): Promise<R | T> => {
        try {
          const value = await steps[i]!({ signal: context.signal, error });
          served = i === 0 ? 'primary' : `alternative-${i}`;
          return value;
        } catch (err) {
          error = err;
          throw err;
        }
      };
    const link = (i: number): Promise<R | T> => {
      const last = i === steps.length - 1;
      if (last && !o.hasValue) return run(i)({ signal: signal ?? new AbortController().signal });
      const next = (): Promise<R | T> | T => {
        this.#events.emit({ type: 'fallback-used', name: this.name, to: last ? 'value' : 'alternative', index: i + 1, error });
        if (!last) return link(i + 1);
        served = 'value';
        return o.value as T;
      };
      return fallback(handles, next).execute(run(i), signal);
    };
    try {
      return await link(0);
    } finally {
      this.#calls.inc({ name: this.name, served_by: served });
    }
  }
}
