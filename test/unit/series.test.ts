import { expect } from 'chai';
import { quantileMs, Sampler } from '../../src/http/dashboard/series.js';
import type { ActorMetrics } from '../../src/system/snapshot.js';

const BOUNDS = [0.001, 0.01, 0.1];

function metrics(id: string, received: number, sent: number, counts: number[]): ActorMetrics {
  return {
    id,
    parent: 'root',
    state: 'running',
    incarnation: 1,
    restarts: 0,
    crashesByCause: {},
    received,
    sent,
    inboxDepth: 0,
    senderSlotsInUse: 0,
    ringFullEvents: 0,
    heartbeatMisses: 0,
        published: 0,
        unrouted: 0,
        dropped: {},
        mailboxCapacity: 0,
    deadLetters: 0,
    handler: { boundsSeconds: BOUNDS, counts, sumSeconds: 0 },
    uptimeMs: 0,
    heapUsedMb: 1,
    heartbeatAgeMs: null,
    cpuPct: 0,
    eventLoopUtilization: 0,
  };
}

describe('dashboard series', () => {
  it('quantileMs interpolates inside the bucket a quantile falls in', () => {
    expect(quantileMs(BOUNDS, [0, 0, 0, 0], 0.5)).to.equal(null);
    expect(quantileMs(BOUNDS, [10, 0, 0, 0], 0.5)).to.be.closeTo(0.5, 1e-9); // half-way through (0, 1] ms
    expect(quantileMs(BOUNDS, [0, 4, 0, 0], 1)).to.be.closeTo(10, 1e-9);
    expect(quantileMs(BOUNDS, [1, 0, 0, 99], 0.5), 'slower than every bound: the largest bound').to.be.closeTo(100, 1e-9);
    expect(quantileMs(BOUNDS, [50, 50, 0, 0], 0.99)).to.be.closeTo(9.82, 1e-9);
  });

  it('rates come from the difference between two reads; a counter that went back gives no rate', () => {
    const s = new Sampler();
    const first = s.take([metrics('a', 100, 10, [5, 0, 0, 0])], 10_000);
    expect(first.actors.a).to.deep.include({ in: null, out: null, p50: null, p99: null });
    const second = s.take([metrics('a', 300, 10, [5, 10, 0, 0]), metrics('b', 7, 7, [0, 0, 0, 0])], 12_000);
    expect(second.t).to.equal(12_000);
    expect(second.actors.a).to.deep.include({ in: 100, out: 0, p50: 5.5 });
    expect(second.actors.b, 'new actor').to.deep.include({ in: null, out: null });
    const third = s.take([metrics('a', 5, 20, [0, 0, 0, 0])], 13_000);
    expect(third.actors.a).to.deep.include({ in: null, out: 10, p50: null });
    expect(third.actors).to.not.have.property('b');
  });
});
