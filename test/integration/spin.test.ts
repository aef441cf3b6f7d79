import { expect } from 'chai';
import { ActorSystem, InvalidOptionError } from '../../src/index.js';
import { actors, Systems } from './system-helpers.js';

const tree = { id: 'root', strategy: 'one_for_one' as const, children: [{ id: 'echo', module: actors('echo') }] };

describe('transport.spin: how receivers wait (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  for (const spin of ['auto', 'off', { micros: 20, maxSpinners: 1 }] as const) {
    it(`answers a loop of asks from the main thread with spin ${JSON.stringify(spin)}`, async () => {
      const { system } = await systems.start(tree, { transport: { spin } });
      const ref = system.ref('echo');
      for (let i = 0; i < 2000; i++) expect(await ref.ask({ op: 'echo', value: i })).to.equal(i);
      const many = await Promise.all(Array.from({ length: 500 }, (_, i) => ref.ask({ op: 'echo', value: i })));
      expect(many).to.deep.equal([...Array(500).keys()]);
    });
  }

  it('gives timers their turn while a loop of asks settles replies without the event loop', async () => {
    const { system } = await systems.start(tree);
    const ref = system.ref('echo');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const until = performance.now() + 300;
      while (performance.now() < until) await ref.ask({ op: 'echo', value: 1 });
    } finally {
      clearInterval(timer);
    }
    // A loop that never yielded would let none through in 300 ms.
    expect(ticks).to.be.greaterThan(10);
  });

  it('refuses a bad spin setting, naming the field', async () => {
    const bad = async (spin: unknown): Promise<string> => {
      try {
        await ActorSystem.start({ name: 't', tree, log: { level: 'silent' }, transport: { spin: spin as 'auto' } });
      } catch (err) {
        expect(err).to.be.instanceOf(InvalidOptionError);
        return (err as Error).message;
      }
      throw new Error('expected the start to be refused');
    };
    expect(await bad('fast')).to.equal(`transport.spin must be 'auto', 'off' or { micros, maxSpinners }, got "fast"`);
    expect(await bad({ micros: -1 })).to.equal('transport.spin.micros must be a whole number of µs from 0 to 50000, got -1');
    expect(await bad({ maxSpinners: 0 })).to.equal('transport.spin.maxSpinners must be a whole number from 1 to 256, got 0');
    expect(await bad({ spinners: 2 })).to.equal('transport.spin.spinners is not a known option');
  });
});
