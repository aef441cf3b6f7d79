import { expect } from 'chai';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AskTimeoutError, InvalidOptionError, MessageTooLargeError, NoSuchActorError, NodeDownError, type ActorSystem, type SystemEvent, type SystemOptions } from '../../src/index.js';
import type { Tick } from '../fixtures/actors/recorder.js';
import { connect } from '@nats-io/transport-node';
import { Codec, type Envelope } from '../../src/codec/envelope.js';
import { encodeFrame, readFrame, subjects } from '../../src/cluster/layout.js';
import { NatsServer } from '../helpers/nats-server.js';
import { clusterSuite, HEARTBEAT_MS, MISSES } from './cluster-helpers.js';
import { actors, until } from './system-helpers.js';

describe('cluster: nodes on a real nats-server (real workers, real processes)', function () {
  this.timeout(120_000);
  const c = clusterSuite('cl');
  const { systems, children, tree, node } = c;
  const ups = (events: SystemEvent[], who: string): number => events.filter((e) => e.type === 'node-up' && e.node === who).length;

  it('nodes see each other (node-up, nodes()), and the main thread tells and asks an actor of another node, in order', async () => {
    const a = await node('n1', ['e1', 'echo']);
    const b = await node('n2', ['e2', 'echo']);
    await until(() => ups(a.events, 'n2') === 1, 'node-up n2 on n1');
    const seen = (s: ActorSystem, other: string): boolean => s.nodes().some((x) => x.node === other && x.state === 'up');
    await until(() => seen(a.system, 'n2') && seen(b.system, 'n1'), 'both nodes listing each other');
    const listed = a.system.nodes().map(({ node, state, actors, self }) => ({ node, state, actors, self }));
    expect(listed).to.deep.equal([
      { node: 'n1', state: 'up', actors: ['e1'], self: true },
      { node: 'n2', state: 'up', actors: ['e2'], self: false },
    ]);
    expect([a.system.ref('e1').node, a.system.ref('e2').node, a.system.ref('nobody').node]).to.deep.equal(['n1', 'n2', undefined]);

    const who = (await a.system.ref('e2').ask({ op: 'whoami' })) as { id: string };
    expect(who.id).to.equal('e2');
    for (let seq = 1; seq <= 300; seq++) a.system.ref('e2').tell({ op: 'record', seq });
    expect(await a.system.ref('e2').ask({ op: 'records' })).to.deep.equal(Array.from({ length: 300 }, (_, i) => i + 1));
    // the actor saw the remote main thread as the sender, and answered it across
    expect(await b.system.ref('e1').ask({ op: 'echo', value: { deep: [1, 'x'] } })).to.deep.equal({ deep: [1, 'x'] });
  });

  it('an actor sends and asks an actor of another node (ctx.send, ctx.ask), its ticks arriving in order', async () => {
    const a = await node('n1', ['e1', 'echo'], ['r1', 'recorder']);
    await node('n2', ['e2', 'echo'], ['r2', 'recorder']);
    await until(() => a.system.ref('e2').node === 'n2', 'n1 knowing e2');
    expect(await a.system.ref('e1').ask({ op: 'ask', to: 'e2', msg: { op: 'echo', value: 7 } })).to.deep.equal({ ok: 7 });
    const whoFrom = (await a.system.ref('e1').ask({ op: 'ask', to: 'e2', msg: { op: 'whoami' } })) as { ok: { id: string } };
    expect(whoFrom.ok.id).to.equal('e2');
    expect(await a.system.ref('r1').ask({ op: 'relay', to: 'r2', from: 1, n: 200 })).to.equal('sent');
    const got = await until(async () => {
      const g = (await a.system.ref('r2').ask({ op: 'got' })) as { got: Tick[] };
      return g.got.length >= 200 && g.got;
    }, 'the 200 ticks at r2');
    expect(got.map((t) => t.seq)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1));
    // and the other way, an actor's tell to an actor of this node
    expect(await a.system.ref('e2').ask({ op: 'tell', to: 'e1', msg: { op: 'record', seq: 5 } })).to.equal(undefined);
    await until(async () => ((await a.system.ref('e1').ask({ op: 'records' })) as number[]).length === 1, 'the record at e1');
  });

  it('an ask to an id no node hosts is NoSuchActorError, from the main thread and from an actor', async () => {
    const a = await node('n1', ['e1', 'echo']);
    await node('n2', ['e2', 'echo']);
    await until(() => a.system.ref('e2').node === 'n2', 'n1 knowing e2');
    const err = await a.system.ref('ghost').ask({ op: 'whoami' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoSuchActorError);
    expect(await a.system.ref('e1').ask({ op: 'ask', to: 'ghost', msg: 1 })).to.include({ error: 'ERR_NO_SUCH_ACTOR' });
  });

  it('refuses a second node with a taken name, and a node hosting an actor id another node hosts', async () => {
    await node('n1', ['e1', 'echo']);
    const dup = await node('n1', ['e9', 'echo']).catch((e: unknown) => e);
    expect(dup).to.be.instanceOf(InvalidOptionError);
    expect((dup as Error).message).to.match(/^cluster\.node 'n1' is taken: a live node of system 'cl\d+'/);
    const twin = await node('n3', ['e1', 'echo']).catch((e: unknown) => e);
    expect(twin).to.be.instanceOf(InvalidOptionError);
    expect((twin as Error).message).to.match(/'e1' \(on node 'n1'\); actor ids are unique across a cluster/);
  });

  it('SIGKILL of a node: its pending asks settle with NodeDownError well before their timeout, node-down is seen, local traffic goes on; restarted, it is up and reachable again', async () => {
    const a = await node('n1', ['e1', 'echo']);
    const child = children.start(c.server.url, 'n2', 'e2:echo', HEARTBEAT_MS, c.name);
    await child.up();
    await until(() => a.system.ref('e2').node === 'n2' && ups(a.events, 'n2') === 1, 'n2 up on n1');
    expect(await a.system.ref('e2').ask({ op: 'echo', value: 1 })).to.equal(1);
    const t0 = Date.now();
    const fromMain = a.system.ref('e2').ask({ op: 'sleep', ms: 100_000 }, { timeout: 100_000 }).catch((e: unknown) => e);
    const fromActor = a.system.ref('e1').ask({ op: 'ask', to: 'e2', msg: { op: 'sleep', ms: 100_000 }, timeout: 100_000 }, { timeout: 100_000 });
    for (let seq = 1; seq <= 50; seq++) a.system.ref('e2').tell({ op: 'record', seq });
    await new Promise((r) => setTimeout(r, 100));
    await child.kill('SIGKILL');
    const err = (await fromMain) as NodeDownError;
    expect(err).to.be.instanceOf(NodeDownError);
    expect([err.code, err.node, err.actor, err.reason]).to.deep.equal(['ERR_NODE_DOWN', 'n2', 'e2', 'timeout']);
    expect(await fromActor).to.include({ error: 'ERR_NODE_DOWN' });
    expect(Date.now() - t0, 'settled by the membership bound, not the 100 s timeout').to.be.below(60_000);
    await until(() => a.events.find((e) => e.type === 'node-down' && e.node === 'n2' && e.reason === 'timeout'), 'node-down n2');
    expect(await a.system.ref('e1').ask({ op: 'echo', value: 'local' })).to.equal('local');
    expect(await a.system.ref('e2').ask({ op: 'echo', value: 1 }).catch((e: unknown) => e)).to.be.instanceOf(NodeDownError);

    const again = children.start(c.server.url, 'n2', 'e2:echo', HEARTBEAT_MS, c.name);
    await again.up();
    await until(() => ups(a.events, 'n2') === 2, 'node-up n2 again');
    expect(await a.system.ref('e2').ask({ op: 'echo', value: 2 })).to.equal(2);
    expect(await a.system.ref('e1').ask({ op: 'ask', to: 'e2', msg: { op: 'echo', value: 3 } })).to.deep.equal({ ok: 3 });
  });

  it('a clean stop says it leaves: the others see node-down with reason left at once', async () => {
    const a = await node('n1', ['e1', 'echo']);
    const child = children.start(c.server.url, 'n2', 'e2:echo', 60_000, c.name); // a heartbeat too slow to time out in this test
    await child.up();
    await until(() => ups(a.events, 'n2') === 1, 'n2 up');
    await child.kill('SIGTERM');
    expect(child.out).to.match(/stopped/);
    await until(() => a.events.find((e) => e.type === 'node-down' && e.node === 'n2' && e.reason === 'left'), 'node-down n2 (left)', 30_000);
    expect(a.system.nodes().find((x) => x.node === 'n2')).to.include({ state: 'down', reason: 'left' });
  });

  it('topics across nodes: a publish (from the main thread or an actor) reaches the subscribers of every node, a request is answered by one on another node', async () => {
    const a = await systems.start(tree(['s1', 'subscriber'], ['e1', 'echo']), { name: c.name, cluster: { node: 'n1', servers: c.server.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } });
    const b = await systems.start(
      { id: 'root', strategy: 'one_for_one', children: [{ id: 's2', module: actors('subscriber'), config: { patterns: ['market.>', 'quote.*'], answer: 'from n2' } }] },
      { name: c.name, cluster: { node: 'n2', servers: c.server.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } },
    );
    const onMain: Array<[unknown, string]> = [];
    b.system.subscribe('market.BTC', (msg, subject) => void onMain.push([msg, subject]));
    // the other node's patterns come with its heartbeats
    await until(() => a.system.subscriptions().some((x) => x.subscriber === '$system@n2' && x.pattern === 'quote.*') && a.system.subscriptions().some((x) => x.pattern === 'market.BTC'), "n2's patterns on n1");
    expect(a.system.publish('market.BTC', { px: 1 })).to.equal(1); // one entry stands for every subscriber of n2
    expect(await a.system.ref('s1').ask({ op: 'publish', subject: 'market.ETH', msg: { px: 2 } })).to.equal(1);
    expect(a.system.publish('other.thing', 0)).to.equal(0);
    const got = await until(async () => {
      const g = (await b.system.ref('s2').ask({ op: 'got' })) as Array<{ topic: string; msg: unknown; from: string }>;
      return g.length >= 2 && g;
    }, 'both publishes at s2');
    expect(got).to.deep.equal([
      { topic: 'market.BTC', msg: { px: 1 }, from: '$system@n1' },
      { topic: 'market.ETH', msg: { px: 2 }, from: 's1' },
    ]);
    await until(() => onMain.length === 1, "the publish at n2's main thread");
    expect(onMain).to.deep.equal([[{ px: 1 }, 'market.BTC']]);
    expect(await a.system.request('quote.BTC', { q: 1 })).to.deep.equal({ by: 's2', answer: 'from n2', topic: 'quote.BTC' });
    expect(await a.system.ref('s1').ask({ op: 'request', subject: 'quote.ETH', msg: 1 })).to.deep.equal({ ok: { by: 's2', answer: 'from n2', topic: 'quote.ETH' } });
    // a node that goes down takes its patterns with it
    await b.system.stop();
    await until(() => !a.system.subscriptions().some((x) => x.subscriber === '$system@n2'), "n2's patterns gone from n1");
    expect(a.system.publish('market.BTC', { px: 3 })).to.equal(0);
  });

  it('three nodes in three processes: an actor of one node asks an actor of a third through a second; the ask timeout applies across the network', async () => {
    const a = await node('n1', ['e1', 'echo']);
    const two = children.start(c.server.url, 'n2', 'e2:echo', HEARTBEAT_MS, c.name);
    const three = children.start(c.server.url, 'n3', 'e3:echo', HEARTBEAT_MS, c.name);
    await Promise.all([two.up(), three.up()]);
    await until(() => a.system.ref('e2').node === 'n2' && a.system.ref('e3').node === 'n3', 'n1 knowing n2 and n3');
    // n1's main thread → e2 (n2) → e3 (n3): n2 must know n3 too
    const relayed = await until(async () => {
      const r = (await a.system.ref('e2').ask({ op: 'ask', to: 'e3', msg: { op: 'whoami' } })) as { ok?: { id: string } };
      return r.ok;
    }, 'e2 reaching e3');
    expect(relayed.id).to.equal('e3');
    expect(await a.system.ref('e1').ask({ op: 'ask', to: 'e3', msg: { op: 'echo', value: 'x' } })).to.deep.equal({ ok: 'x' });
    const late = await a.system.ref('e3').ask({ op: 'sleep', ms: 3000 }, { timeout: 200 }).catch((e: unknown) => e);
    expect(late).to.be.instanceOf(AskTimeoutError);
    expect(a.system.nodes().map((x) => [x.node, x.state])).to.deep.equal([
      ['n1', 'up'],
      ['n2', 'up'],
      ['n3', 'up'],
    ]);
  });

  it('a NATS server restart: the nodes count each other down while it is gone, up again after the reconnect, and reach each other again', async () => {
    const own = await NatsServer.start({ jetstream: false });
    try {
      const opts = (nodeName: string): Partial<SystemOptions> => ({ name: c.name, cluster: { node: nodeName, servers: own.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES, options: { reconnectTimeWait: 100, maxReconnectAttempts: -1 } } });
      const a = await systems.start(tree(['e1', 'echo']), opts('n1'));
      await systems.start(tree(['e2', 'echo']), opts('n2'));
      await until(() => a.system.ref('e2').node === 'n2' && ups(a.events, 'n2') === 1, 'n2 up');
      await own.stop();
      await until(() => a.events.find((e) => e.type === 'node-down' && e.node === 'n2' && e.reason === 'timeout'), 'n2 down while NATS is gone');
      expect(await a.system.ref('e2').ask({ op: 'echo', value: 1 }).catch((e: unknown) => e)).to.be.instanceOf(NodeDownError);
      expect(await a.system.ref('e1').ask({ op: 'echo', value: 'local' })).to.equal('local');
      await own.restart();
      await until(() => ups(a.events, 'n2') === 2, 'n2 up again after the reconnect', 60_000);
      expect(await a.system.ref('e2').ask({ op: 'echo', value: 2 })).to.equal(2);
    } finally {
      await systems.stopAll();
      await own.dispose();
    }
  });

  it('a node stops while its NATS server is gone: the stop is not held by the connection', async () => {
    const own = await NatsServer.start({ jetstream: false });
    try {
      const a = await systems.start(tree(['e1', 'echo']), { name: c.name, cluster: { node: 'n1', servers: own.url, heartbeatMs: HEARTBEAT_MS, options: { maxReconnectAttempts: -1 } } });
      await own.stop();
      await a.system.stop();
      expect(a.system.state).to.equal('stopped');
    } finally {
      await systems.stopAll();
      await own.dispose();
    }
  });

  it('bytes from the network are decoded as a ring frame is: garbage is dropped, a __proto__ key stays data, a foreign asker gets its answer', async () => {
    const a = await node('n1', ['e1', 'echo']);
    const nc = await connect({ servers: c.server.url });
    try {
      const s = subjects(c.name);
      const answers = nc.subscribe(s.mail('x9'));
      nc.publish(s.mail('n1'), new Uint8Array([1, 2, 3]));
      nc.publish(s.mail('n1'), new Uint8Array(0));
      nc.publish(s.mail('n1'), encodeFrame('x9', 'e1', new Uint8Array([0xc1, 0xc1])));
      const codec = new Codec();
      const value = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
      nc.publish(s.mail('n1'), encodeFrame('x9', 'e1', codec.encodeToBytes({ kind: 'ask', from: 'foreign', to: 'e1', id: 77, payload: { op: 'echo', value } })));
      let reply: Envelope | undefined;
      for await (const m of answers) {
        const f = readFrame(m.data);
        reply = codec.decode(m.data, f.offset, m.data.length - f.offset, f.to);
        break;
      }
      expect(reply).to.deep.include({ kind: 'reply', from: 'e1', to: 'foreign', id: 77 });
      const echoed = reply!.payload as Record<string, unknown>;
      expect(Object.getPrototypeOf(echoed)).to.equal(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(echoed.ok).to.equal(1);
      expect(await a.system.ref('e1').ask({ op: 'echo', value: 'still fine' })).to.equal('still fine');
    } finally {
      await nc.close();
    }
  });

  it("a message larger than the NATS server's max_payload is refused with both sizes named", async function () {
    const dir = mkdtempSync(join(tmpdir(), 'ringmaster-nats-conf-'));
    const conf = join(dir, 'small.conf');
    writeFileSync(conf, 'max_payload: 4096\n');
    const small = await NatsServer.start({ jetstream: false, args: ['-c', conf] });
    try {
      const opts = (nodeName: string): Partial<SystemOptions> => ({ name: c.name, cluster: { node: nodeName, servers: small.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } });
      const a = await systems.start(tree(['e1', 'echo']), opts('n1'));
      await systems.start(tree(['e2', 'echo']), opts('n2'));
      await until(() => a.system.ref('e2').node === 'n2', 'n1 knowing e2');
      const err = (await a.system.ref('e2').ask({ op: 'echo', value: 'x'.repeat(10_000) }).catch((e: unknown) => e)) as MessageTooLargeError;
      expect(err).to.be.instanceOf(MessageTooLargeError);
      expect(err.limit).to.equal(4096);
      expect(err.message).to.match(/message to 'e2' on node 'n2' \(the NATS server's max_payload\): message of \d+ bytes exceeds the limit of 4096 bytes/);
      a.system.ref('e2').tell({ op: 'echo', value: 'y'.repeat(10_000) });
      await until(() => a.system.deadLetters().find((d) => d.to === 'e2' && /max_payload/.test(d.reason)), 'the dead letter');
      expect(await a.system.ref('e2').ask({ op: 'echo', value: 'small' })).to.equal('small');
    } finally {
      await systems.stopAll();
      await small.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
