import { expect } from 'chai';
import { ActorCrashedError, ActorSystem } from '../../src/index.js';
import type Enrich from '../fixtures/actors/typed/enrich.js';
import type Sink from '../fixtures/actors/typed/sink.js';
import { find, Systems, until } from './system-helpers.js';

/** The typed fixtures, named relative to this file through baseDir: import.meta.url. */
const tree = {
  id: 'root',
  strategy: 'one_for_one' as const,
  children: [
    { id: 'sink', module: '../fixtures/actors/typed/sink.js', config: { label: 'out' }, subscribe: ['ticks.>'] },
    { id: 'enrich', module: '../fixtures/actors/typed/enrich.js', config: { factor: 3, sink: 'sink' }, maxRedeliveries: 0, backoff: { min: 10, max: 10 } },
  ],
};

describe('typed actor protocols at run time (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('runs a typed pipeline: refs, ctx.ref/ctx.ask between actors, modules found from baseDir: import.meta.url', async () => {
    const { system } = await systems.start(tree, { baseDir: import.meta.url });
    const enrich = system.ref<typeof Enrich>('enrich');
    expect(await enrich.ask({ symbol: 'BTC', price: 2 })).to.deep.equal({ score: 6, stored: 1 });
    expect(await enrich.ask({ symbol: 'ETH', price: 5 })).to.deep.equal({ score: 15, stored: 2 });
    const counted = await system.ref<typeof Sink>('sink').ask({ type: 'count' });
    expect(counted).to.deep.equal({ label: 'out', count: 2 });
  });

  it('sends published messages to onTopic with ctx.topic set, and answers requests from it', async () => {
    const { system } = await systems.start(tree, { baseDir: import.meta.url });
    expect(system.publish('ticks.SOL', { price: 7 })).to.equal(1);
    expect(await system.request('ticks.ADA', { price: 1 })).to.equal('ticks.ADA');
    // Both reached onTopic (receive would have taken them for unknown records and answered undefined).
    expect(await system.ref<typeof Sink>('sink').ask({ type: 'count' })).to.deep.equal({ label: 'out', count: 2 });
  });

  it("with apiErrors: 'crash', a proxy method's error crashes the actor and the caller gets ActorCrashedError with that cause", async () => {
    const { system, events } = await systems.start(tree, { baseDir: import.meta.url });
    const api = system.proxy<typeof Enrich>('enrich');
    expect(await api.scale(2)).to.equal(6);
    const err = await api.scale(Number.NaN).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ActorCrashedError);
    expect((err as ActorCrashedError).crash).to.equal('exception');
    expect(((err as ActorCrashedError).cause as Error).message).to.equal('price must be finite, got NaN');
    expect(((err as ActorCrashedError).cause as Error).name).to.equal('RangeError');
    const crashed = await until(() => find(events, 'crashed', 'enrich'), 'the crashed event');
    expect(crashed.reason).to.match(/RangeError: price must be finite/);
    // An async method's rejection crashes it the same way; the restarted incarnation serves calls.
    await until(() => system.status().find((s) => s.id === 'enrich')?.state === 'running', 'enrich to restart');
    expect(await api.later(4)).to.equal(4);
    const late = await api.later(-1).catch((e: unknown) => e);
    expect(late).to.be.instanceOf(ActorCrashedError);
    expect(((late as ActorCrashedError).cause as Error).message).to.equal('negative price -1');
    await until(() => system.status().find((s) => s.id === 'enrich')?.incarnation === 3, 'the second restart');
    expect(await api.seen()).to.equal(0);
  });

  it('refuses a baseDir that does not exist, naming it', async () => {
    const err = await ActorSystem.start({ name: 't', tree, baseDir: '/nonexistent/ringmaster-base', log: { level: 'silent' } }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'ERR_INVALID_OPTION');
    expect((err as Error).message).to.equal('baseDir no such file or folder: /nonexistent/ringmaster-base');
  });
});
