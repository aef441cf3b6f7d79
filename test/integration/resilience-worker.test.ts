import { expect } from 'chai';
import { WorkerSet, nextMessage } from './helpers.js';

interface Report {
  result: string;
  calls: number;
  failing: string[];
  rejected: string;
  state: string;
  metrics: string;
  loaded: number;
}

describe('resilience toolkit in a worker thread', () => {
  const workers = new WorkerSet();
  afterEach(() => workers.terminateAll());

  it('loads through `ringmaster/resilience` in a bare worker (no system) and runs policies there', async () => {
    const w = workers.start('resilience-worker.js', null);
    const report = await nextMessage<Report>(w, 'report');
    expect(report.result).to.equal('ok on attempt 2');
    expect(report.calls).to.equal(2);
    expect(report.failing).to.deep.equal(['down', 'down']);
    expect(report.rejected).to.equal('ERR_CIRCUIT_OPEN');
    expect(report.state).to.equal('open');
    // The worker's own registry counted its calls.
    expect(report.metrics).to.contain('ringmaster_resilience_breaker_calls_total{name="in-worker",result="rejected"} 1');
    expect(report.loaded).to.be.greaterThan(10);
  });
});
