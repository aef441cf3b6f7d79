import { expect } from 'chai';
import { Claims, type Claim } from '../../src/cluster/claims.js';

/**
 * A NATS server in miniature for the claims: exact subjects, every message
 * delivered to each subscriber in the order the bus got it, when `run`
 * says so (so a test decides what each node has seen when).
 */
class Bus {
  readonly #subs: Array<{ subject: string; cb: (err: null, m: { data: Uint8Array; reply?: string }) => void }> = [];
  readonly #queue: Array<() => void> = [];

  conn(): never {
    return {
      subscribe: (subject: string, o: { callback: (err: null, m: { data: Uint8Array; reply?: string }) => void }) => {
        const sub = { subject, cb: o.callback };
        this.#subs.push(sub);
        return { unsubscribe: () => this.#subs.splice(this.#subs.indexOf(sub), 1) };
      },
      publish: (subject: string, data: Uint8Array, o?: { reply?: string }) => {
        for (const s of this.#subs.filter((x) => x.subject === subject)) this.#queue.push(() => s.cb(null, { data, ...(o?.reply ? { reply: o.reply } : {}) }));
      },
      flush: () => Promise.resolve(),
    } as never;
  }

  /** Deliver what is queued, and what that publishes, until nothing is left. */
  run(): void {
    for (let f = this.#queue.shift(); f; f = this.#queue.shift()) f();
  }
}

/** A node that has joined: its claims live, hosting `hosted`, knowing `up` to be up. */
async function joined(bus: Bus, node: string, iid: string, hosted: string[], up: string[]): Promise<Claims> {
  const c = new Claims(bus.conn(), 'rm.t.c.claim', node, iid, hosted, () => hosted, () => up);
  await c.claim();
  bus.run();
  expect(await c.verdict('t')).to.equal(null);
  return c;
}

/** A spawn claim's outcome, and whether it has settled yet. */
function watch(p: Promise<Claim | null>): { settled: boolean; by: Claim | null } {
  const s = { settled: false, by: null as Claim | null };
  void p.then((by) => Object.assign(s, { settled: true, by }));
  return s;
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('cluster: spawn claims (claims.ts, a bus in miniature)', function () {
  this.timeout(10_000);
  const open: Claims[] = [];
  afterEach(() => open.splice(0).forEach((c) => c.close()));

  it('two nodes claiming one id at once: the smaller run id wins, on both, whichever claim the bus carried first', async () => {
    for (const first of ['a', 'b']) {
      const bus = new Bus();
      const a = await joined(bus, 'na', 'a-1', [], ['nb']);
      const b = await joined(bus, 'nb', 'b-1', [], ['na']);
      open.push(a, b);
      const [x, y] = first === 'a' ? [watch(a.spawn('x')), watch(b.spawn('x'))] : [watch(b.spawn('x')), watch(a.spawn('x'))].reverse();
      expect(a.claiming('x') && b.claiming('x')).to.equal(true);
      bus.run();
      await tick();
      expect(x, 'na (run id a-1) wins').to.deep.equal({ settled: true, by: null });
      expect(y.settled).to.equal(true);
      expect(y.by).to.include({ node: 'na' });
      expect(a.claiming('x') || b.claiming('x')).to.equal(false);
    }
  });

  it('a claim of an id another node hosts is objected to by that node', async () => {
    const bus = new Bus();
    const a = await joined(bus, 'na', 'a-1', ['x'], ['nb']);
    const b = await joined(bus, 'nb', 'b-1', [], ['na']);
    open.push(a, b);
    const w = watch(b.spawn('x'));
    bus.run();
    await tick();
    expect(w.by).to.include({ node: 'na', live: true });
  });

  it('decided as soon as every node up has answered, or once SPAWN_CLAIM_MS has passed when one does not; a node alone decides when its claim comes back', async () => {
    const bus = new Bus();
    const a = await joined(bus, 'na', 'a-1', [], ['nb']);
    const b = await joined(bus, 'nb', 'b-1', [], ['na']);
    const loneBus = new Bus();
    const lone = await joined(loneBus, 'nl', 'l-1', [], []);
    open.push(a, b, lone);
    const w = watch(a.spawn('x'));
    bus.run();
    await tick();
    expect(w, 'nb answered').to.deep.equal({ settled: true, by: null });
    b.close(); // nb is up as far as na knows, and answers nothing now
    const p = a.spawn('y');
    const silent = watch(p);
    bus.run();
    await tick();
    expect(silent.settled, 'waiting for nb').to.equal(false);
    expect(await p, 'no objection within the window').to.equal(null);
    const l = watch(lone.spawn('z'));
    loneBus.run();
    await tick();
    expect(l).to.deep.equal({ settled: true, by: null });
  });

  it('a node starting at the same moment with the id: the smaller run id wins between the join and the spawn', async () => {
    for (const [joinIid, spawnWins] of [['z-9', true], ['0-1', false]] as const) {
      const bus = new Bus();
      const s = await joined(bus, 'ns', 'm-1', [], []);
      open.push(s);
      const j = new Claims(bus.conn(), 'rm.t.c.claim', 'nj', joinIid, ['x'], () => ['x'], () => []);
      open.push(j);
      await j.claim();
      const w = watch(s.spawn('x'));
      bus.run();
      await tick();
      const refused = await j.verdict('t');
      expect(w.settled).to.equal(true);
      if (spawnWins) {
        expect(w.by).to.equal(null);
        expect(refused?.message).to.match(/'x' \(on node 'ns'\)/);
      } else {
        expect(w.by).to.include({ node: 'nj', ref: 0 });
        expect(refused).to.equal(null);
      }
    }
  });
});
