import { expect } from 'chai';
import type { ActorSystem, SystemEvent } from '../../src/index.js';
import { defaultConfig } from '../../examples/trading/config.js';
import { runTrading } from '../../examples/trading/run.js';
import type { Faults } from '../../examples/trading/shared.js';

// Rates far above the example's, so crashes, hangs and poison orders happen within a few seconds.
const faults: Faults = {
  strategy: { crashRate: 0.002 },
  risk: { crashRate: 0.05, poisonRate: 0.04 },
  execution: { crashRate: 0.03, hangRate: 0.02 },
};

describe('trading example (real workers, faults on)', function () {
  this.timeout(60_000);
  const started: ActorSystem[] = [];
  afterEach(async () => {
    // runTrading stops its system itself; this covers a run that threw halfway.
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('accounts for every order as filled, rejected or dead-lettered while stages crash and hang', async () => {
    const report = await runTrading({
      seconds: 4,
      faults,
      // Enough restart budget for these rates: the point is redelivery and accounting, not escalation.
      config: { feed: { ...defaultConfig.feed, ticksPerSecond: 400 }, supervision: { ...defaultConfig.supervision, intensity: 500 } },
      drainMs: 10_000,
      onStarted: (s) => started.push(s),
    });

    expect(report.problem, report.problem).to.equal(undefined);
    const ledger = report.ledger!;
    expect(ledger, 'the ledger was read before the stop').to.not.equal(null);
    expect(report.unaccounted, 'orders neither settled nor dead-lettered').to.deep.equal([]);
    expect(ledger.orphans).to.equal(0);
    expect(ledger.sent).to.equal(ledger.filled + ledger.rejected + report.deadLettered.length);
    expect(report.balanced).to.equal(true);
    expect(ledger.filled).to.be.greaterThan(0);

    // Each dead-lettered order is one the system reports as a dead letter to a stage.
    const deadIds = new Set(report.events.flatMap((e) => (e.type === 'dead-letter' ? [(e.letter.payload as { id?: string }).id] : [])));
    for (const id of report.deadLettered) expect(deadIds.has(id), id).to.equal(true);

    // At least one stage crashed and came back as a later incarnation.
    const crashed = report.events.filter((e): e is Extract<SystemEvent, { type: 'crashed' }> => e.type === 'crashed');
    expect(crashed.length).to.be.greaterThan(0);
    const cameBack = crashed.some((c) => report.events.some((e) => e.type === 'restarted' && e.actor === c.actor && e.incarnation > c.incarnation));
    expect(cameBack, 'a crashed stage was restarted').to.equal(true);
    expect(report.events.some((e) => e.type === 'escalated')).to.equal(false);
  });
});
