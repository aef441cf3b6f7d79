import { expect } from 'chai';
import { Registry } from 'prom-client';
import { BulkheadFullError } from '../../src/resilience/errors.js';
import { Bulkhead } from '../../src/resilience/bulkhead.js';
import type { ResilienceEvent } from '../../src/resilience/events.js';
import { deferred, metricValue, rejection, settle, useFakeClock } from './resilience-helpers.js';

describe('resilience: bulkhead', () => {
  useFakeClock();
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });
  const read = (name: string, labels: Record<string, string> = {}): Promise<number> => metricValue(registry, `ringmaster_resilience_${name}`, { name: 'pool', ...labels });

  it('runs up to maxConcurrent calls, queues up to maxQueue, rejects the rest with BulkheadFullError', async () => {
    const b = new Bulkhead({ name: 'pool', registry, maxConcurrent: 2, maxQueue: 1 });
    const events: ResilienceEvent[] = [];
    b.on('bulkhead-rejected', (e) => events.push(e));
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    const started: number[] = [];
    const calls = gates.map((g, i) =>
      b.execute(() => {
        started.push(i);
        return g.promise;
      }),
    );
    await settle();
    expect(started).to.deep.equal([0, 1]);
    expect([b.active, b.queued]).to.deep.equal([2, 1]);
    expect([await read('bulkhead_active_calls'), await read('bulkhead_queued_calls')]).to.deep.equal([2, 1]);
    const err = (await rejection(b.execute(() => 'never'))) as BulkheadFullError;
    expect(err).to.be.instanceOf(BulkheadFullError);
    expect([err.code, err.bulkhead, err.maxConcurrent, err.maxQueue]).to.deep.equal(['ERR_BULKHEAD_FULL', 'pool', 2, 1]);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ type: 'bulkhead-rejected', active: 2, queued: 1 });
    gates[0]!.resolve(0);
    expect(await calls[0]).to.equal(0);
    await settle();
    expect(started).to.deep.equal([0, 1, 2]);
    expect([b.active, b.queued]).to.deep.equal([2, 0]);
    gates[1]!.resolve(1);
    gates[2]!.resolve(2);
    expect(await Promise.all(calls)).to.deep.equal([0, 1, 2]);
    await settle();
    expect([await read('bulkhead_active_calls'), await read('bulkhead_queued_calls')]).to.deep.equal([0, 0]);
    expect(await read('bulkhead_calls_total', { result: 'success' })).to.equal(3);
    expect(await read('bulkhead_calls_total', { result: 'rejected' })).to.equal(1);
  });

  it("takes a queued call out at once when its caller aborts; it never runs", async () => {
    const b = new Bulkhead({ name: 'pool', registry, maxConcurrent: 1, maxQueue: 1 });
    const gate = deferred<string>();
    const first = b.execute(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const queued = b.execute(() => {
      ran = true;
    }, controller.signal);
    controller.abort(new Error('no longer needed'));
    expect(((await rejection(queued)) as Error).message).to.equal('no longer needed');
    gate.resolve('done');
    expect(await first).to.equal('done');
    await settle();
    expect(ran).to.equal(false);
    expect(b.queued).to.equal(0);
  });

  it('rejects invalid options', () => {
    expect(() => new Bulkhead({ maxConcurrent: 0 })).to.throw('bulkhead.maxConcurrent must be an integer of at least 1, got 0');
    expect(() => new Bulkhead({ maxQueue: -1 })).to.throw('bulkhead.maxQueue must be an integer of at least 0, got -1');
  });
});
