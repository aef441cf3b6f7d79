import { expect } from 'chai';
import { createMetricsRegistry } from '../../src/index.js';
import { actors, Systems } from './system-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('event-loop utilisation per actor (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('is high for an actor whose handlers keep its loop busy, low for an idle one, and the same for every reader of a window', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'busy', module: actors('busy') },
        { id: 'idle', module: actors('echo') },
      ],
    });
    const elu = (id: string): number => system.metrics().actors.find((a) => a.id === id)!.eventLoopUtilization;
    // The first reading opens the window.
    elu('busy');
    elu('idle');
    // 2 s of handlers in a row, 200 ms each: the loop is busy whatever share of a core the machine gives it.
    const work = Promise.all(Array.from({ length: 10 }, () => system.ref('busy').ask({ ms: 200 }, { timeout: 30_000 })));
    await sleep(1200);
    const busy = elu('busy');
    const idle = elu('idle');
    expect(busy, 'busy actor').to.be.greaterThan(0.5);
    expect(idle, 'idle actor').to.be.lessThan(0.3);
    // Other readers in the same window (a scrape, /health) see the same figure and do not reset it.
    const text = await createMetricsRegistry(system).metrics();
    const scraped = Number(/^ringmaster_event_loop_utilization_ratio\{actor="busy",system="test"\} (\S+)$/m.exec(text)?.[1]);
    const health = (await system.health()).modules.find((m) => m.moduleId === 'busy')!;
    expect([scraped, health.metrics.eventLoopUtilization, elu('busy')]).to.deep.equal([busy, busy, busy]);
    expect(health.metrics.cpu).to.equal(Math.round(busy * 1000) / 10);
    await work;
  });
});
