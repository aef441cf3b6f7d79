import { expect } from 'chai';
import { ActorIdTakenError, InvalidOptionError, type SystemOptions } from '../../src/index.js';
import { clusterSuite } from './cluster-helpers.js';
import { actors, until, type Systems } from './system-helpers.js';

const HEARTBEAT_MS = 200;
const MISSES = 10;

describe('cluster: join and spawn rules (a real nats-server)', function () {
  this.timeout(120_000);
  const c = clusterSuite('cr');
  const { systems, children } = c;

  const tree = (...ids: string[]): SystemOptions['tree'] => ({ id: 'root', strategy: 'one_for_one', children: ids.map((id) => ({ id, module: actors('echo') })) });
  const node = (node: string, ...ids: string[]): ReturnType<Systems['start']> => systems.start(tree(...ids), { name: c.name, cluster: { node, servers: c.server.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } });

  /** Start both at once: exactly one must come up, the other be refused with InvalidOptionError. */
  async function race(a: () => ReturnType<Systems['start']>, b: () => ReturnType<Systems['start']>): Promise<InvalidOptionError> {
    const [x, y] = await Promise.allSettled([a(), b()]);
    const up = [x, y].filter((r) => r.status === 'fulfilled');
    const refused = [x, y].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(up, `one of the two starts: ${refused.map(String).join('; ')}`).to.have.length(1);
    expect(refused[0]).to.be.instanceOf(InvalidOptionError);
    return refused[0] as InvalidOptionError;
  }

  it('two nodes starting at the same moment with the same name: one starts, the other is refused', async () => {
    for (let round = 0; round < 3; round++) {
      c.name = `cr${round}x${Date.now() % 100000}`;
      const err = await race(
        () => node('n1', 'e1'),
        () => node('n1', 'e2'),
      );
      expect(err.path).to.equal('cluster.node');
      expect(err.message).to.match(/^cluster\.node 'n1' is taken: a (live node|node starting at the same moment \(its claim won\)) of system 'cr\d+x\d+'/);
      await systems.stopAll();
    }
  });

  it('two nodes starting at the same moment hosting the same actor id: one starts, the other is refused naming the id and the node', async () => {
    for (let round = 0; round < 3; round++) {
      c.name = `cr${round}x${Date.now() % 100000}`;
      const err = await race(
        () => node('n1', 'a1', 'shared'),
        () => node('n2', 'b1', 'shared'),
      );
      expect(err.path).to.equal('tree');
      expect(err.message).to.match(/'shared' \(on node 'n[12]'\); actor ids are unique across a cluster/);
      expect(err.message).to.not.match(/'a1'|'b1'/);
      await systems.stopAll();
    }
  });

  it('the same race between two processes: one node is up, the other prints its refusal', async () => {
    const one = children.start(c.server.url, 'p1', 'twin:echo', HEARTBEAT_MS, c.name);
    const two = children.start(c.server.url, 'p2', 'twin:echo', HEARTBEAT_MS, c.name);
    await Promise.all([one.up().catch(() => {}), two.up().catch(() => {})]);
    await Promise.all([one, two].map((p) => until(() => /^(up|refused .*)$/m.test(p.out), 'a verdict')));
    const outs = [one.out, two.out].sort();
    // refused by the claims (at the same moment), or by the other's answer to `who` (it had won its claim already)
    expect(outs[0]).to.match(/^refused tree hosts actor ids (another node of cluster 'cr\d+' hosts already|a (live node|node starting at the same moment \(its claim won\)) of cluster 'cr\d+' claims as well)/m);
    expect(outs[0]).to.match(/'twin' \(on node 'p[12]'\)/);
    expect(outs[1]).to.match(/^up$/m);
  });

  it('a spawn of an id another live node hosts fails naming the node; once that node has left, its proxies are gone and the id spawns here', async () => {
    const a = await node('n1', 'e1');
    const b = await node('n2', 'e2');
    await until(() => a.system.ref('e2').node === 'n2', 'n1 knowing e2');
    const err = await a.system.spawn('root', { id: 'e2', module: actors('echo') }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ActorIdTakenError);
    expect(err).to.include({ code: 'ERR_ACTOR_ID_TAKEN', id: 'e2', node: 'n2' });
    expect((err as Error).message).to.equal(`spawn.id 'e2' is hosted by node 'n2' of cluster '${c.name}'; actor ids are unique across a cluster`);
    expect(((await a.system.ref('e2').ask({ op: 'whoami' })) as { id: string }).id, 'still reached on n2').to.equal('e2');

    await b.system.stop();
    await until(() => a.events.find((e) => e.type === 'node-down' && e.node === 'n2' && e.reason === 'left'), 'node-down n2 (left)');
    await a.system.spawn('root', { id: 'e2', module: actors('echo'), config: { here: 'n1' } });
    expect(a.system.ref('e2').node).to.equal('n1');
    const who = (await a.system.ref('e2').ask({ op: 'whoami' })) as { id: string; config: unknown };
    expect(who).to.deep.include({ id: 'e2', config: { here: 'n1' } });
    // an actor of this node reaches the new local e2 as well
    expect(await a.system.ref('e1').ask({ op: 'ask', to: 'e2', msg: { op: 'echo', value: 5 } })).to.deep.equal({ ok: 5 });
  });

  it('a spawn of an id of a node that is down but did not leave is refused, saying it may come back', async () => {
    const a = await node('n1', 'e1');
    const child = children.start(c.server.url, 'n2', 'e2:echo', HEARTBEAT_MS, c.name);
    await child.up();
    await until(() => a.system.ref('e2').node === 'n2', 'n1 knowing e2');
    await child.kill('SIGKILL');
    await until(() => a.events.find((e) => e.type === 'node-down' && e.node === 'n2'), 'node-down n2');
    const err = await a.system.spawn('root', { id: 'e2', module: actors('echo') }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ActorIdTakenError);
    expect((err as Error).message).to.match(/^spawn\.id 'e2' is hosted by node 'n2' of cluster 'cr\d+', which is down \((timeout|restarted|disconnected)\) and may come back/);
  });
});
