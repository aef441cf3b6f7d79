import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { ActorIdTakenError } from '../../src/index.js';
import { clusterSuite } from './cluster-helpers.js';
import { actors, until } from './system-helpers.js';

const SPAWNER = new URL('../fixtures/cluster-spawner.js', import.meta.url).pathname;

interface Outcome {
  id: string;
  ok: boolean;
  name?: string;
  code?: string;
  message?: string;
  node?: string;
  errId?: string;
}

/** A node process that spawns on command (test/fixtures/cluster-spawner.ts). */
class Spawner {
  readonly proc: ChildProcess;
  out = '';
  readonly exited: Promise<unknown>;

  constructor(url: string, readonly node: string, system: string) {
    this.proc = spawn(process.execPath, [SPAWNER, url, node, system], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((r) => this.proc.once('exit', r));
  }

  lines(prefix: string): string[] {
    return this.out.split('\n').filter((l) => l.startsWith(prefix));
  }

  command(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  /** The outcomes of its `n`th spawn command (0-based), once printed. */
  async result(n: number): Promise<Outcome[]> {
    const line = await until(() => this.lines('result ')[n], `${this.node}'s result ${n}`, 60_000);
    return JSON.parse(line.slice('result '.length)) as Outcome[];
  }

  kill(): Promise<unknown> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/** What a spawn that lost says: the id, the winning node, the rule. */
function lostMessage(id: string, winner: string, system: string): RegExp {
  const q = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const taken = `taken: node '${q(winner)}' of cluster '${q(system)}' (hosts it, or claimed it at the same moment and its claim won|spawned it at the same moment and its claim won)`;
  const hosted = `hosted by node '${q(winner)}' of cluster '${q(system)}'`;
  return new RegExp(`^spawn\\.id '${q(id)}' is (${taken}|${hosted}); actor ids are unique across a cluster$`);
}

describe('cluster: one id spawned on two nodes at the same moment (a real nats-server)', function () {
  this.timeout(240_000);
  const c = clusterSuite('cs');
  let procs: Spawner[] = [];
  afterEach(async () => {
    for (const p of procs) p.proc.stdin!.end();
    await Promise.all(procs.map((p) => p.kill()));
    procs = [];
  });

  it('two node processes spawning the same ids at the same moment, round after round: exactly one hosts each id, the other spawn fails with ActorIdTakenError naming it', async function () {
    const ROUNDS = 12;
    const IDS = 3;
    const [a, b] = (procs = [new Spawner(c.server.url, 'sa', c.name), new Spawner(c.server.url, 'sb', c.name)]) as [Spawner, Spawner];
    await Promise.all([a, b].map((p) => until(() => /^up$/m.test(p.out), `${p.node} up`, 60_000)));
    const observer = await c.node('obs', ['home-obs', 'echo']);
    await until(() => observer.system.ref('home-sa').node === 'sa' && observer.system.ref('home-sb').node === 'sb', 'both spawners known');
    for (const p of [a, b]) p.command(`spawn ${Date.now()} warm-${p.node}`); // a first spawn each, apart
    for (const r of await Promise.all([a.result(0), b.result(0)])) expect(r[0]!.ok, JSON.stringify(r)).to.equal(true);
    const won = new Map<string, string>();
    let raced = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const ids = Array.from({ length: IDS }, (_, k) => `r${round}-${k}`);
      const n = a.lines('result ').length;
      expect(b.lines('result ').length, 'both have answered every command').to.equal(n);
      const at = Date.now() + 150; // both start their spawns at this moment
      for (const p of [a, b]) p.command(`spawn ${at} ${ids.join(',')}`);
      const [ra, rb] = await Promise.all([a.result(n), b.result(n)]);
      for (const [k, id] of ids.entries()) {
        const oa = ra[k]!;
        const ob = rb[k]!;
        expect([oa.ok, ob.ok].filter(Boolean), `round ${round}, '${id}': exactly one node spawns it (${JSON.stringify([oa, ob])})`).to.have.length(1);
        const [winner, lost] = oa.ok ? ['sa', ob] : ['sb', oa];
        expect(lost).to.include({ name: 'ActorIdTakenError', code: 'ERR_ACTOR_ID_TAKEN', node: winner, errId: id });
        expect(lost.message).to.match(lostMessage(id, winner, c.name));
        if (/ is taken: /.test(lost.message!)) raced++;
        won.set(id, winner);
      }
      for (const p of [a, b]) {
        const mine = ids.filter((id) => won.get(id) === p.node);
        if (mine.length > 0) p.command(`stop ${mine.join(',')}`);
      }
    }
    // every other node sees each id on its winner only
    for (const [id, winner] of won) await until(() => observer.system.ref(id).node === winner, `'${id}' on '${winner}' as the observer sees it`);
    expect(won.size).to.equal(ROUNDS * IDS);
    // how many were decided by the claims (the rest by a heartbeat that came first) is up to the machine: not asserted
    this.test!.title += ` (${raced} of ${won.size} decided by the claims)`;
  });

  it('two nodes of one process spawning the same id at once: one spawns it, the other rejects, and both reach it on the winner', async () => {
    const one = await c.node('n1', ['e1', 'echo']);
    const two = await c.node('n2', ['e2', 'echo']);
    await until(() => one.system.ref('e2').node === 'n2' && two.system.ref('e1').node === 'n1', 'the nodes knowing each other');
    for (let round = 0; round < 5; round++) {
      const id = `twin${round}`;
      const [x, y] = await Promise.allSettled([one.system.spawn('root', { id, module: actors('echo') }), two.system.spawn('root', { id, module: actors('echo') })]);
      const ok = [x, y].filter((r) => r.status === 'fulfilled');
      expect(ok, `round ${round}: one spawn of '${id}' succeeds`).to.have.length(1);
      const winner = x.status === 'fulfilled' ? 'n1' : 'n2';
      const err = ([x, y].find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as ActorIdTakenError;
      expect(err).to.be.instanceOf(ActorIdTakenError);
      expect(err).to.include({ code: 'ERR_ACTOR_ID_TAKEN', id, node: winner });
      expect(err.message).to.match(lostMessage(id, winner, c.name));
      for (const s of [one, two]) {
        await until(() => s.system.ref(id).node === winner, `'${id}' on ${winner}`);
        expect(((await s.system.ref(id).ask({ op: 'whoami' })) as { id: string }).id).to.equal(id);
      }
    }
  });
});
