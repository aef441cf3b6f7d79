import { expect } from 'chai';
import { ActorCrashedError } from '../../src/index.js';
import { mulberry32 } from '../fixtures/stress-lib.js';
import { actors, Systems, until } from './system-helpers.js';

describe('accounting under random crashes (seeded)', function () {
  this.timeout(120_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('accounts for every message as handled once or dead-lettered as poison', async () => {
    const seed = 20261125;
    const rnd = mulberry32(seed);
    const workers = ['w1', 'w2', 'w3'];
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 1000,
      period: 1000,
      children: [{ id: 'ledger', module: actors('echo') }, ...workers.map((id) => ({ id, module: actors('accountant'), dependencies: ['ledger'], maxRedeliveries: 1 }))],
    });
    const total = 3000;
    const poison = new Set<number>();
    const asks: Array<Promise<unknown>> = [];
    for (let seq = 0; seq < total; seq++) {
      const to = workers[Math.floor(rnd() * workers.length)]!;
      const crash = rnd() < 0.003;
      if (crash) poison.add(seq);
      const msg = { seq, crash };
      if (rnd() < 0.2) asks.push(system.ref(to).ask(msg, { timeout: 60_000 }).catch((e: unknown) => e));
      else system.ref(to).tell(msg);
      if (seq % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(poison.size).to.be.greaterThan(0);
    const ledger = system.ref('ledger');
    const recorded = await until(
      async () => {
        const r = (await ledger.ask({ op: 'records' }, { timeout: 30_000 })) as number[];
        const dead = system.deadLetters().filter((d) => d.reason.startsWith('poison')).length;
        return r.length + dead >= total ? r : false;
      },
      'every message to be handled or dead-lettered',
      90_000,
    );
    const handled = recorded;
    const dead = system
      .deadLetters()
      .filter((d) => d.reason.startsWith('poison'))
      .map((d) => (d.payload as { seq: number }).seq);
    // None handled twice, none lost, and exactly the poison ones dead-lettered.
    expect(new Set(handled).size).to.equal(handled.length);
    expect([...dead].sort((a, b) => a - b)).to.deep.equal([...poison].sort((a, b) => a - b));
    expect(handled.length + dead.length).to.equal(total);
    const answers = await Promise.all(asks);
    for (const a of answers) {
      if (a instanceof Error) expect(a).to.be.instanceOf(ActorCrashedError);
      else expect(poison.has(a as number)).to.equal(false);
    }
    expect(system.deadLetterCount).to.equal(dead.length);
  });
});
