import { expect } from 'chai';
import { AskTimeoutError } from '../../src/index.js';
import type { RiskApi } from '../fixtures/actors/risk-api.js';
import { actors, Systems } from './system-helpers.js';

describe('typed proxies over the rings (comlink protocol, real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  const tree = {
    id: 'root',
    strategy: 'one_for_one' as const,
    children: [
      { id: 'risk', module: actors('risk-api') },
      { id: 'desk', module: actors('risk-api') },
      { id: 'plain', module: actors('echo') },
    ],
  };

  it('calls an actor’s api with types, and the actor’s state is the one its receive sees', async () => {
    const { system } = await systems.start(tree);
    const risk = system.proxy<RiskApi>('risk');
    expect(await risk.check({ symbol: 'BTC', qty: 60 })).to.deep.equal({ ok: true, exposure: 60 });
    expect(await risk.check({ symbol: 'ETH', qty: 60 })).to.deep.equal({ ok: false, exposure: 60 });
    expect(await risk.exposure()).to.equal(60);
    expect(await system.ref('risk').ask({})).to.equal(60);
    expect(await risk.slow(10)).to.equal('done');
  });

  it('rejects with the method’s error (message and code) and the actor keeps running', async () => {
    const { system, events } = await systems.start(tree);
    const risk = system.proxy<RiskApi>('risk');
    const err = (await risk.reject('too big').catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).to.be.instanceOf(Error);
    expect(err.message).to.equal('rejected: too big');
    expect(err.code).to.equal('E_RISK');
    expect(await risk.exposure()).to.equal(0);
    expect(events.filter((e) => e.type === 'crashed')).to.have.length(0);
    // The method error's cause comes along, as an error.
    const wrapped = (await risk.wrapped().catch((e: unknown) => e)) as Error;
    expect(wrapped.message).to.equal('outer');
    expect(wrapped.cause).to.be.instanceOf(Error);
    expect([(wrapped.cause as Error).name, (wrapped.cause as Error).message]).to.deep.equal(['TypeError', 'inner']);
  });

  it('works from one actor to another (ctx.proxy)', async () => {
    const { system } = await systems.start(tree);
    const desk = system.proxy<RiskApi>('desk');
    expect(await desk.relay('risk', { symbol: 'BTC', qty: 30 })).to.deep.equal({ ok: true, exposure: 30 });
    expect(await system.proxy<RiskApi>('risk').exposure()).to.equal(30);
    expect(await desk.exposure()).to.equal(0);
  });

  it('settles every call: ask timeout, unknown method, actor without an api', async () => {
    const { system } = await systems.start(tree);
    const err = (await system
      .proxy<RiskApi>('risk', { timeout: 50 })
      .slow(2000)
      .catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).to.equal(new AskTimeoutError('risk', 50).code);
    expect(err.message).to.match(/risk/);
    const missing = await (system.proxy<{ nope(): number }>('risk').nope() as Promise<number>).catch((e: Error) => e);
    expect(missing).to.be.instanceOf(Error);
    const plain = await system
      .proxy<RiskApi>('plain')
      .exposure()
      .catch((e: Error) => e);
    expect((plain as Error).message).to.match(/has no api/);
    expect(plain).to.include({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION' });
  });
});
