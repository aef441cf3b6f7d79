import { expect } from 'chai';
import { NoRespondersError, type ActorSystem } from '../../src/index.js';
import { actors, find, Systems, until } from './system-helpers.js';

type Got = Array<{ topic: string; msg: unknown; from: string | undefined }>;

const sub = (id: string, patterns: string[], config: Record<string, unknown> = {}) => ({ id, module: actors('subscriber'), config: { patterns, ...config } });

/** Publish from actor `from` until `n` subscribers are reached (copies of the table catch up asynchronously). */
async function publishReaching(system: ActorSystem, from: string, subject: string, msg: unknown, n: number): Promise<void> {
  await until(async () => (await system.ref(from).ask<number>({ op: 'publish', subject, msg })) === n, `a publish on ${subject} to reach ${n}`);
}

describe('topics: publish, subscribe and request (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('routes a publish straight to each subscriber whose pattern matches (* one token, > the rest)', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [sub('star', ['trade.*']), sub('tail', ['market.>']), sub('exact', ['trade.signal.BTC']), sub('both', ['trade.>', 'trade.signal.*']), sub('pub', [])],
    });
    await publishReaching(system, 'pub', 'trade.signal.BTC', { px: 1 }, 2); // exact + both (once, though two patterns match)
    expect(await system.ref('pub').ask({ op: 'publish', subject: 'trade.fill', msg: 2 })).to.equal(2); // star + both
    expect(await system.ref('pub').ask({ op: 'publish', subject: 'market.tick.ETH.usd', msg: 3 })).to.equal(1);
    expect(await system.ref('pub').ask({ op: 'publish', subject: 'market', msg: 4 })).to.equal(0); // '>' needs a token
    const got = async (id: string) => (await system.ref(id).ask<Got>({ op: 'got' })).map((g) => [g.topic, g.from]);
    await until(async () => (await got('both')).length >= 2, 'both to get its two subjects');
    expect(await got('both')).to.deep.include.members([['trade.signal.BTC', 'pub'], ['trade.fill', 'pub']]);
    expect(await got('star')).to.deep.equal([['trade.fill', 'pub']]);
    expect(await got('tail')).to.deep.equal([['market.tick.ETH.usd', 'pub']]);
    expect((await got('exact')).map((g) => g[0])).to.include('trade.signal.BTC');
  });

  it('counts a publish nobody listens to as unrouted, not an error', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [sub('pub', [])] });
    expect(await system.ref('pub').ask({ op: 'publish', subject: 'nobody.home', msg: 1 })).to.equal(0);
    expect(system.publish('nobody.here', 1)).to.equal(0);
    const m = system.metrics();
    expect(m.actors.find((a) => a.id === 'pub')).to.include({ unrouted: 1, published: 0 });
    expect(m.topics).to.include({ unrouted: 1, published: 0 });
  });

  it('keeps a subscription across the subscriber’s restart, and delivers what was published while it was down', async () => {
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ ...sub('s', ['jobs.>']), backoff: { min: 300, max: 300, randomFactor: 0 } }, sub('pub', [])],
    });
    await publishReaching(system, 'pub', 'jobs.warmup', 0, 1);
    await system.ref('s').ask({ op: 'crash' }).catch(() => {});
    await until(() => find(events, 'crashed', 's'), 's to crash');
    // Published during the backoff: it waits in s's inbox.
    expect(await system.ref('pub').ask({ op: 'publish', subject: 'jobs.during', msg: 1 })).to.equal(1);
    await until(() => system.status().find((x) => x.id === 's')?.state === 'running', 's to come back');
    expect(await system.ref('pub').ask({ op: 'publish', subject: 'jobs.after', msg: 2 })).to.equal(1);
    expect(system.subscriptions()).to.deep.include({ pattern: 'jobs.>', subscriber: 's' });
    await until(async () => (await system.ref('s').ask<Got>({ op: 'got' })).length === 2, 's to get both');
    expect((await system.ref('s').ask<Got>({ op: 'got' })).map((g) => g.topic)).to.deep.equal(['jobs.during', 'jobs.after']);
  });

  it('request settles with the first answer; NoRespondersError when nobody subscribes', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [sub('q1', ['quote.*'], { answer: 'one' }), sub('q2', ['quote.*'], { answer: 'two' }), sub('asker', ['quote.*'])],
    });
    await until(async () => {
      const r = await system.ref('asker').ask<{ ok?: { answer: string } }>({ op: 'request', subject: 'quote.BTC', msg: {} });
      return r.ok && ['one', 'two'].includes(r.ok.answer); // never itself, though it subscribes too
    }, 'a request between actors to be answered');
    expect(await system.ref('asker').ask({ op: 'request', subject: 'nobody.BTC', msg: {} })).to.deep.equal({ error: 'ERR_NO_RESPONDERS' });
    const fromMain = await system.request<{ answer: string; topic: string }>('quote.ETH', { size: 1 });
    expect(['one', 'two', 'asker']).to.include(fromMain.answer);
    expect(fromMain.topic).to.equal('quote.ETH');
    const err = await system.request('nobody.ETH', {}).catch((e: Error) => e);
    expect(err).to.be.instanceOf(NoRespondersError);
  });

  it('request fails with the first error only when every responder fails', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [sub('bad', ['rpc.x'], { failRequests: true }), sub('good', ['rpc.x'], { answer: 'fine' })],
    });
    await until(() => system.subscriptions().length === 2, 'both subscriptions');
    expect(await system.request<{ answer: string }>('rpc.x', {}, { timeout: 5000 })).to.include({ answer: 'fine' });
  });

  it('main-thread handlers subscribe, receive publishes from actors, answer requests, and unsubscribe', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [sub('pub', [])] });
    const seen: Array<[string, unknown]> = [];
    const off = system.subscribe('alerts.>', (msg, subject) => {
      seen.push([subject, msg]);
      return 'ack';
    });
    await publishReaching(system, 'pub', 'alerts.disk.full', { pct: 99 }, 1);
    await until(() => seen.length > 0, 'the handler to run');
    expect(seen[0]).to.deep.equal(['alerts.disk.full', { pct: 99 }]);
    expect(await system.ref('pub').ask({ op: 'request', subject: 'alerts.ping', msg: 1 })).to.deep.equal({ ok: 'ack' });
    expect(system.publish('alerts.local', 7)).to.equal(1);
    await until(() => seen.some(([s]) => s === 'alerts.local'), 'a local publish');
    off();
    expect(system.subscriptions()).to.deep.equal([]);
    await publishReaching(system, 'pub', 'alerts.disk.full', 1, 0);
  });

  it('an actor unsubscribes; bad subjects and patterns are refused with the place named', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [sub('s', ['a.b']), sub('pub', [])] });
    await publishReaching(system, 'pub', 'a.b', 1, 1);
    await system.ref('s').ask({ op: 'unsubscribe', pattern: 'a.b' });
    await publishReaching(system, 'pub', 'a.b', 2, 0);
    expect(() => system.publish('a.*', 1)).to.throw(/system\.publish/);
    expect(() => system.subscribe('a.>.b', () => {})).to.throw(/system\.subscribe/);
    const r = await system.ref('s').ask({ op: 'subscribe', pattern: 'x..y' }).catch((e: Error) => e);
    expect(String((r as Error).message)).to.match(/ctx\.subscribe/);
  });
});
