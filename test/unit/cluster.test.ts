import { expect } from 'chai';
import { Codec } from '../../src/codec/envelope.js';
import { decodeBeat, encodeBeat, encodeFrame, nodeOfSystemId, readFrame, subjects, systemAt } from '../../src/cluster/layout.js';
import { Membership } from '../../src/cluster/membership.js';
import { spawnConflict } from '../../src/cluster/rules.js';
import { ActorIdTakenError, ClusterJoinError, DecodeError, InvalidOptionError } from '../../src/errors.js';
import { ActorSystem } from '../../src/index.js';
import { freePort } from '../helpers/nats-server.js';
import { resolveSystemOptions } from '../../src/system/options.js';

describe('cluster: layout, options and membership (pure)', () => {
  it('puts every subject of a system under rm.<system>.c, the name made one subject token', () => {
    const s = subjects('shop');
    expect([s.hb, s.bye, s.who, s.claim, s.ping('n1'), s.mail('n1')]).to.deep.equal(['rm.shop.c.hb', 'rm.shop.c.bye', 'rm.shop.c.who', 'rm.shop.c.claim', 'rm.shop.c.n.n1.ping', 'rm.shop.c.n.n1.m']);
    expect(subjects('my shop.eu').hb).to.match(/^rm\.my_shop_eu_[0-9a-f]{8}\.c\.hb$/);
    expect(subjects('my shop.eu').hb).to.not.equal(subjects('my_shop_eu').hb);
    expect([systemAt('n1'), nodeOfSystemId('$system@n1'), nodeOfSystemId('risk')]).to.deep.equal(['$system@n1', 'n1', undefined]);
  });

  it('carries an envelope in a frame behind the sender node and the receiver id, decoded by the codec', () => {
    const codec = new Codec();
    const env = { kind: 'ask' as const, from: 'strategy', to: 'risk', id: 42, payload: { px: 1.5, sym: 'BTC' }, priority: 'high' as const };
    const frame = encodeFrame('n1', 'risk', codec.encodeToBytes(env));
    const f = readFrame(frame);
    expect([f.node, f.to]).to.deep.equal(['n1', 'risk']);
    const back = codec.decode(frame, f.offset, frame.length - f.offset, f.to);
    expect(back).to.deep.include({ kind: 'ask', from: 'strategy', to: 'risk', id: 42, payload: { px: 1.5, sym: 'BTC' }, priority: 'high' });
  });

  it('refuses bytes that are not a frame with a DecodeError, and lets no bytes choose a prototype', () => {
    expect(() => readFrame(new Uint8Array([1]))).to.throw(DecodeError, /too short/);
    expect(() => readFrame(new Uint8Array([200, 1, 2, 3]))).to.throw(DecodeError, /node name/);
    expect(() => readFrame(Buffer.from([2, 0x2e, 0x2e, 0, 1, 0x61, 0x90]))).to.throw(DecodeError, /is not one/);
    expect(decodeBeat(new Uint8Array([0xc1]))).to.equal(null);
    expect(decodeBeat(encodeBeat({ node: 'bad name', iid: 'x', actors: [], topics: [] }))).to.equal(null);
    const evil = decodeBeat(Buffer.from(JSON.stringify({})));
    expect(evil).to.equal(null);
    const b = decodeBeat(encodeBeat({ node: 'n1', iid: 'i', actors: ['a', 'b'], topics: ['market.>'] }))!;
    expect(b).to.deep.equal({ node: 'n1', iid: 'i', actors: ['a', 'b'], topics: ['market.>'] });
    expect(Object.getPrototypeOf(b)).to.equal(Object.prototype);
  });

  it('checks the cluster option, naming the field and the reason, and fills in the defaults', () => {
    const bad = (cluster: unknown, re: RegExp): void => {
      expect(() => resolveSystemOptions({ name: 's', cluster } as never)).to.throw(InvalidOptionError, re);
    };
    bad({ servers: 'nats://h:4222' }, /^cluster\.node /);
    bad({ node: 'n 1', servers: 'nats://h:4222' }, /^cluster\.node must be a node name: 1 to 64 letters, digits, _ or -/);
    bad({ node: 'n1' }, /^cluster\.servers /);
    bad({ node: 'n1', servers: 'http://h/x' }, /^cluster\.servers must be a NATS server address/);
    bad({ node: 'n1', servers: 'h:4222', heartbeatMs: 0 }, /^cluster\.heartbeatMs must be a whole number of ms from 10 to 60000, got 0/);
    bad({ node: 'n1', servers: 'h:4222', misses: 1.5 }, /^cluster\.misses must be a whole number from 1 to 100/);
    bad({ node: 'n1', servers: 'h:4222', heartbeat: 5 }, /^cluster\.heartbeat is not a known option/);
    bad({ node: 'n1', servers: 'h:4222', user: 'u' }, /^cluster\.pass is required with user/);
    bad({ node: 'n1', servers: 'h:4222', options: { timeout: 5 } }, /^cluster\.options\.timeout is set by cluster\.connectTimeoutMs/);
    const c = resolveSystemOptions({ name: 's', cluster: { node: 'n1', servers: 'h:4222', options: { maxReconnectAttempts: -1 } } }).cluster;
    expect(c).to.deep.equal({ node: 'n1', servers: ['h:4222'], heartbeatMs: 1000, misses: 3, connectTimeoutMs: 5000, options: { maxReconnectAttempts: -1 } });
    expect(resolveSystemOptions({ name: 's' }).cluster).to.equal(null);
  });

  it('counts a node up on its first heartbeat and down when it leaves, falls silent past the limit, or comes back as a new run', () => {
    const log: string[] = [];
    const m = new Membership('me', 3000, { up: (n) => log.push(`up ${n}`), down: (n, r) => log.push(`down ${n} ${r}`) });
    m.beat({ node: 'me', iid: 'x', actors: ['mine'], topics: [] }, 0);
    m.beat({ node: 'n2', iid: 'a', actors: ['e2'], topics: [] }, 0);
    m.beat({ node: 'n2', iid: 'a', actors: ['e2', 'e3'], topics: [] }, 1000);
    expect(m.where('e3')).to.deep.equal({ node: 'n2', up: true });
    m.sweep(3999);
    expect(log).to.deep.equal(['up n2']);
    m.sweep(4001);
    expect(m.where('e2')).to.deep.equal({ node: 'n2', up: false, reason: 'timeout' });
    m.beat({ node: 'n2', iid: 'a', actors: ['e2'], topics: [] }, 5000);
    expect(m.where('e3'), 'no longer hosted').to.equal(undefined);
    m.beat({ node: 'n2', iid: 'b', actors: ['e2'], topics: [] }, 5100);
    m.left('n2', 'a', 5200); // the old run's goodbye does not count for the new one
    m.left('n2', 'b', 5300);
    expect(log).to.deep.equal(['up n2', 'down n2 timeout', 'up n2', 'down n2 restarted', 'up n2', 'down n2 left']);
    expect(m.list(['mine']).map((x) => [x.node, x.state, x.self, x.reason])).to.deep.equal([
      ['me', 'up', true, undefined],
      ['n2', 'down', false, 'left'],
    ]);
    expect(m.conflicts(['e2', 'mine'])).to.deep.equal([]);
  });
});

describe('cluster: the spawn rule (pure)', () => {
  it('refuses an id another node hosts while it is up or may come back, and frees it once that node has left', () => {
    const m = new Membership('me', 3000, { up: () => {}, down: () => {} });
    m.beat({ node: 'n2', iid: 'a', actors: ['risk'], topics: [] }, 1000);
    m.beat({ node: 'n3', iid: 'b', actors: ['book'], topics: [] }, 1000);
    expect(spawnConflict(m, 'shop', 'free')).to.equal(null);
    const up = spawnConflict(m, 'shop', 'risk');
    expect(up).to.be.instanceOf(ActorIdTakenError);
    expect(up).to.include({ code: 'ERR_ACTOR_ID_TAKEN', id: 'risk', node: 'n2' });
    expect(up!.message).to.equal("spawn.id 'risk' is hosted by node 'n2' of cluster 'shop'; actor ids are unique across a cluster");
    m.sweep(10_000); // both time out
    expect(spawnConflict(m, 'shop', 'book')!.message).to.match(/which is down \(timeout\) and may come back/);
    m.beat({ node: 'n2', iid: 'a', actors: ['risk'], topics: [] }, 10_000);
    m.left('n2', 'a', 10_001);
    expect(m.actorsOf('n2')).to.deep.equal(['risk']);
    expect(spawnConflict(m, 'shop', 'risk'), 'free once n2 has left').to.equal(null);
  });
});

describe('cluster: joining', () => {
  it('fails the start with ClusterJoinError naming the node and the servers when no NATS server answers', async function () {
    this.timeout(30_000);
    const port = await freePort();
    const err = await ActorSystem.start({
      name: 'lonely',
      log: { level: 'silent' },
      cluster: { node: 'n1', servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 2000 },
      tree: { id: 'root', strategy: 'one_for_one', children: [] },
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ClusterJoinError);
    expect(err).to.include({ code: 'ERR_CLUSTER_JOIN', node: 'n1' });
    expect((err as Error).message).to.include(`cluster node 'n1' cannot join: cannot connect to NATS at nats://127.0.0.1:${port}`);
  });
});
