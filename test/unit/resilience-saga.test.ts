import { expect } from 'chai';
import { Registry } from 'prom-client';
import { SagaCompensationError, SagaFailedError } from '../../src/resilience/errors.js';
import { Saga, type SagaEvent, type SagaStep } from '../../src/resilience/saga.js';
import { deferred, metricValue, rejection, settle } from './resilience-helpers.js';

describe('resilience: saga', () => {
  let registry: Registry;
  let log: string[];
  beforeEach(() => {
    registry = new Registry();
    log = [];
  });

  /** A step that logs its action and compensation; `fails` makes the action (or the compensation) throw. */
  function step(name: string, fails: 'action' | 'compensation' | null = null, compensable = true): SagaStep<{ order: number }> {
    return {
      name,
      action: (input) => {
        log.push(`do ${name}`);
        if (fails === 'action') throw new Error(`${name} failed`);
        return `${name}#${input.order}`;
      },
      ...(compensable
        ? {
            compensate: (_input: { order: number }, result: unknown) => {
              log.push(`undo ${name} (${String(result)})`);
              if (fails === 'compensation') throw new Error(`undo ${name} failed`);
            },
          }
        : {}),
    };
  }

  function saga(steps: SagaStep<{ order: number }>[]): { s: Saga<{ order: number }>; events: SagaEvent[] } {
    const s = new Saga({ name: 'order', registry, steps });
    const events: SagaEvent[] = [];
    s.on('*', (e) => events.push(e));
    return { s, events };
  }

  it('runs every step in order and reports completed with the results', async () => {
    const { s, events } = saga([step('reserve'), step('charge'), step('ship')]);
    const report = await s.run({ order: 7 });
    expect(log).to.deep.equal(['do reserve', 'do charge', 'do ship']);
    expect(report.state).to.equal('completed');
    expect(report.steps.map((x) => x.status)).to.deep.equal(['completed', 'completed', 'completed']);
    expect(report.results).to.deep.equal({ reserve: 'reserve#7', charge: 'charge#7', ship: 'ship#7' });
    expect(events.map((e) => e.type)).to.deep.equal(['saga-step-completed', 'saga-step-completed', 'saga-step-completed', 'saga-completed']);
  });

  it('on a failed step, compensates only the completed steps, newest first, and rejects with SagaFailedError', async () => {
    const { s, events } = saga([step('reserve'), step('charge'), step('ship', 'action'), step('notify')]);
    const run = s.start({ order: 1 });
    const err = (await rejection(run.done)) as SagaFailedError;
    expect(log).to.deep.equal(['do reserve', 'do charge', 'do ship', 'undo charge (charge#1)', 'undo reserve (reserve#1)']);
    expect(err).to.be.instanceOf(SagaFailedError);
    expect([err.code, err.saga, err.step, (err.cause as Error).message]).to.deep.equal(['ERR_SAGA_FAILED', 'order', 'ship', 'ship failed']);
    const report = run.report();
    expect(report.state).to.equal('compensated');
    expect(report.steps.map((x) => x.status)).to.deep.equal(['compensated', 'compensated', 'failed', 'pending']);
    expect((report.steps[2]!.error as Error).message).to.equal('ship failed');
    expect(events.map((e) => e.type)).to.deep.equal([
      'saga-step-completed',
      'saga-step-completed',
      'saga-step-failed',
      'saga-step-compensated',
      'saga-step-compensated',
      'saga-compensated',
    ]);
    expect(events.at(-1)).to.include({ failedStep: 'ship' });
  });

  it('reports a failed compensation instead of swallowing it, and still runs the others', async () => {
    const { s, events } = saga([step('reserve'), step('charge', 'compensation'), step('ship', 'action')]);
    const run = s.start({ order: 2 });
    const err = (await rejection(run.done)) as SagaCompensationError;
    expect(err).to.be.instanceOf(SagaCompensationError);
    expect([err.code, err.step]).to.deep.equal(['ERR_SAGA_COMPENSATION_FAILED', 'ship']);
    expect(err.failures.map((f) => [f.step, (f.error as Error).message])).to.deep.equal([['charge', 'undo charge failed']]);
    expect(log.slice(-2)).to.deep.equal(['undo charge (charge#2)', 'undo reserve (reserve#2)']);
    const report = run.report();
    expect(report.state).to.equal('failed');
    expect(report.steps.map((x) => x.status)).to.deep.equal(['compensated', 'compensation-failed', 'failed']);
    expect(events.at(-1)).to.deep.include({ type: 'saga-failed', failedStep: 'ship', failedCompensations: ['charge'] });
  });

  it('shows its state while it runs: pending, running, compensating, then the outcome', async () => {
    const gate = deferred<string>();
    const undo = deferred();
    const { s } = saga([
      { name: 'slow', action: () => gate.promise, compensate: () => undo.promise },
      { name: 'boom', action: () => Promise.reject(new Error('boom')) },
    ]);
    const run = s.start({ order: 3 });
    expect(run.state).to.equal('pending');
    await settle();
    expect(run.state).to.equal('running');
    expect(run.report().steps.map((x) => x.status)).to.deep.equal(['running', 'pending']);
    gate.resolve('slow done');
    await settle();
    expect(run.state).to.equal('compensating');
    expect(run.report().steps.map((x) => x.status)).to.deep.equal(['compensating', 'failed']);
    undo.resolve();
    await rejection(run.done);
    expect(run.state).to.equal('compensated');
  });

  it('compensates when the caller aborts between steps; a step without a compensation has nothing to undo', async () => {
    const controller = new AbortController();
    const { s } = saga([
      step('log', null, false),
      step('reserve'),
      {
        name: 'stop-here',
        action: () => {
          controller.abort(new Error('cancelled by user'));
          return 'done';
        },
        compensate: () => {
          log.push('undo stop-here');
        },
      },
      step('charge'),
    ]);
    const run = s.start({ order: 4 }, { signal: controller.signal });
    const err = (await rejection(run.done)) as SagaFailedError;
    expect([err.step, (err.cause as Error).message]).to.deep.equal(['charge', 'cancelled by user']);
    expect(log).to.deep.equal(['do log', 'do reserve', 'undo stop-here', 'undo reserve (reserve#4)']);
    expect(run.report().steps.map((x) => x.status)).to.deep.equal(['completed', 'compensated', 'compensated', 'failed']);
  });

  it('counts runs by outcome and compensations by result', async () => {
    const { s } = saga([step('a'), step('b', 'action')]);
    await rejection(s.run({ order: 5 }));
    const { s: ok } = saga([step('a')]);
    await ok.run({ order: 6 });
    const read = (name: string, labels: Record<string, string>): Promise<number> => metricValue(registry, `ringmaster_resilience_${name}`, { name: 'order', ...labels });
    expect(await read('saga_runs_total', { result: 'compensated' })).to.equal(1);
    expect(await read('saga_runs_total', { result: 'completed' })).to.equal(1);
    expect(await read('saga_compensations_total', { result: 'success' })).to.equal(1);
    expect(await metricValue(registry, 'ringmaster_resilience_saga_duration_seconds', { name: 'order', result: 'completed' }, 'ringmaster_resilience_saga_duration_seconds_count')).to.equal(1);
  });

  it('rejects invalid steps', () => {
    expect(() => new Saga({ steps: [] })).to.throw('saga.steps must hold at least one step');
    expect(() => new Saga({ steps: [step('a'), step('a')] })).to.throw('saga.steps[1].name must be unique among the steps, got "a"');
    expect(() => new Saga({ steps: [{ name: 'x' } as SagaStep<void>] })).to.throw('saga.steps[0].action must be a function, got undefined');
  });
});
