import type { Registry } from 'prom-client';
import { z } from 'zod';
import { SagaCompensationError, SagaFailedError, type CompensationFailure } from './errors.js';
import { PolicyEvents, type EventsOf } from './events.js';
import { counter, histogram, resilienceRegistry, secondsSince, zeroes } from './metrics.js';
import { commonFields, fn, parseOptions, policyName } from './options.js';
import { NEVER } from './policy.js';

/** What an action gets besides the saga's input: the signal, and the results of the steps before it, by step name. */
export interface SagaStepContext {
  signal: AbortSignal;
  results: Readonly<Record<string, unknown>>;
}

export interface SagaStep<I> {
  name: string;
  action: (input: I, context: SagaStepContext) => PromiseLike<unknown> | unknown;
  /** Undoes the action, given its result; runs even after the caller aborted (that is when it is needed). Without one, a completed step has nothing to undo. */
  compensate?: (input: I, result: unknown) => unknown;
}

export interface SagaOptions<I> {
  name?: string;
  registry?: Registry;
  steps: SagaStep<I>[];
}

export interface ResolvedSagaOptions<I> {
  name: string;
  registry: Registry;
  steps: readonly SagaStep<I>[];
}

export type SagaState = 'pending' | 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';
export type SagaStepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'compensation-failed';

export interface SagaStepReport {
  name: string;
  status: SagaStepStatus;
  /** The action's error (status failed) or the compensation's (status compensation-failed). */
  error?: unknown;
}

/** Where a run stands: the saga's state, each step's status, the results so far. */
export interface SagaReport {
  name: string;
  state: SagaState;
  steps: SagaStepReport[];
  results: Record<string, unknown>;
}

export type SagaEvent = EventsOf<'saga-'>;

const stepSchema = z.strictObject({ name: policyName, action: fn<SagaStep<unknown>['action']>(), compensate: fn<SagaStep<unknown>['compensate']>().optional() });

const schema = z
  .strictObject({ ...commonFields, steps: z.array(stepSchema, { error: 'must be an array of steps' }).min(1, 'must hold at least one step') })
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.steps.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'name'], message: 'must be unique among the steps', input: s.name });
      seen.add(s.name);
    });
  });

/**
 * A saga: ordered steps, each an action and a compensation. When an action
 * fails (or the caller aborts between steps), the compensations of the
 * steps that completed run in reverse order; a compensation that fails is
 * reported (state `failed`, SagaCompensationError) and the others still
 * run. Written here: neither cockatiel nor lru-cache has sagas. Retries or
 * time limits for a step compose inside its action (`retry.execute(...)`).
 */
export class Saga<I = void> {
  readonly options: Readonly<ResolvedSagaOptions<I>>;
  readonly on: PolicyEvents<SagaEvent>['on'];
  readonly #events = new PolicyEvents<SagaEvent>();
  readonly #metrics;

  constructor(options: SagaOptions<I>) {
    const o = parseOptions(schema, options, 'saga');
    this.options = Object.freeze({ name: o.name ?? 'saga', registry: o.registry ?? resilienceRegistry, steps: Object.freeze([...options.steps]) });
    this.on = this.#events.on.bind(this.#events);
    const r = this.options.registry;
    this.#metrics = {
      runs: counter(r, 'saga_runs_total', 'Saga runs by outcome: completed, compensated (a step failed, every compensation succeeded) or failed (a compensation failed too).', ['result']),
      compensations: counter(r, 'saga_compensations_total', 'Compensations run by result: success or failure.', ['result']),
      duration: histogram(r, 'saga_duration_seconds', 'Time a saga run took, compensations included, by outcome.', ['result']),
    };
    zeroes(this.#metrics.runs, this.name, 'result', ['completed', 'compensated', 'failed']);
    zeroes(this.#metrics.compensations, this.name, 'result', ['success', 'failure']);
  }

  get name(): string {
    return this.options.name;
  }

  /** Start a run; follow it through the returned SagaRun. */
  start(input: I, options: { signal?: AbortSignal } = {}): SagaRun {
    const report: SagaReport = { name: this.name, state: 'pending', steps: this.options.steps.map((s) => ({ name: s.name, status: 'pending' })), results: {} };
    return new SagaRun(report, this.#run(input, report, options.signal ?? NEVER));
  }

  /** Run to the end: resolves with the report when every step completed; rejects with SagaFailedError or SagaCompensationError. */
  run(input: I, options: { signal?: AbortSignal } = {}): Promise<SagaReport> {
    return this.start(input, options).done;
  }

  async #run(input: I, report: SagaReport, signal: AbortSignal): Promise<SagaReport> {
    await Promise.resolve(); // start() returns the run before the first action starts
    const started = performance.now();
    const steps = this.options.steps;
    report.state = 'running';
    let failedAt = -1;
    let failure: unknown;
    for (let i = 0; i < steps.length && failedAt < 0; i++) {
      const step = steps[i]!;
      const entry = report.steps[i]!;
      try {
        signal.throwIfAborted();
        entry.status = 'running';
        report.results[step.name] = await step.action(input, { signal, results: report.results });
        entry.status = 'completed';
        this.#events.emit({ type: 'saga-step-completed', name: this.name, step: step.name });
      } catch (err) {
        [failedAt, failure, entry.status, entry.error] = [i, err, 'failed', err];
        this.#events.emit({ type: 'saga-step-failed', name: this.name, step: step.name, error: err });
      }
    }
    if (failedAt < 0) return this.#end(report, 'completed', started);
    report.state = 'compensating';
    const failures = await this.#compensate(input, report, failedAt);
    const failedStep = steps[failedAt]!.name;
    if (failures.length === 0) {
      this.#events.emit({ type: 'saga-compensated', name: this.name, failedStep });
      this.#end(report, 'compensated', started);
      throw new SagaFailedError(this.name, failedStep, { cause: failure });
    }
    this.#events.emit({ type: 'saga-failed', name: this.name, failedStep, failedCompensations: failures.map((f) => f.step) });
    this.#end(report, 'failed', started);
    throw new SagaCompensationError(this.name, failedStep, failures, { cause: failure });
  }

  /** Undo the completed steps before `failedAt`, newest first; a failing compensation does not stop the others. */
  async #compensate(input: I, report: SagaReport, failedAt: number): Promise<CompensationFailure[]> {
    const failures: CompensationFailure[] = [];
    for (let j = failedAt - 1; j >= 0; j--) {
      const step = this.options.steps[j]!;
      const entry = report.steps[j]!;
      if (entry.status !== 'completed' || !step.compensate) continue;
      entry.status = 'compensating';
      try {
        await step.compensate(input, report.results[step.name]);
        entry.status = 'compensated';
        this.#metrics.compensations.inc({ name: this.name, result: 'success' });
        this.#events.emit({ type: 'saga-step-compensated', name: this.name, step: step.name });
      } catch (err) {
        [entry.status, entry.error] = ['compensation-failed', err];
        failures.push({ step: step.name, error: err });
        this.#metrics.compensations.inc({ name: this.name, result: 'failure' });
        this.#events.emit({ type: 'saga-compensation-failed', name: this.name, step: step.name, error: err });
      }
    }
    return failures;
  }

  #end(report: SagaReport, state: 'completed' | 'compensated' | 'failed', started: number): SagaReport {
    report.state = state;
    this.#metrics.runs.inc({ name: this.name, result: state });
    this.#metrics.duration.observe({ name: this.name, result: state }, secondsSince(started));
    if (state === 'completed') this.#events.emit({ type: 'saga-completed', name: this.name });
    return report;
  }
}

/** One run of a saga, readable while it goes. */
export class SagaRun {
  readonly #report: SagaReport;
  /** Settles as Saga.run() does. */
  readonly done: Promise<SagaReport>;

  constructor(report: SagaReport, done: Promise<SagaReport>) {
    this.#report = report;
    this.done = done.then(() => this.report());
    // A caller reading only the state must not get an unhandled rejection; awaiting `done` still sees it.
    this.done.catch(() => undefined);
  }

  get state(): SagaState {
    return this.#report.state;
  }

  /** A copy of where the run stands now. */
  report(): SagaReport {
    const r = this.#report;
    return { name: r.name, state: r.state, steps: r.steps.map((s) => ({ ...s })), results: { ...r.results } };
  }
}
