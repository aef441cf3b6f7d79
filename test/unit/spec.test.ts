import { expect } from 'chai';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_INTENSITY, InvalidTreeError, MAX_TIMEOUT_MS } from '../../src/index.js';
import { RestartBackoff, RestartBudget } from '../../src/supervisor/budget.js';
import { resolveDynamicChild, resolveTree } from '../../src/supervisor/resolve.js';

function problems(tree: unknown): string[] {
  try {
    resolveTree(tree);
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidTreeError);
    return (err as InvalidTreeError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the tree to be rejected');
}

describe('tree spec', () => {
  it('fills every default', () => {
    const t = resolveTree({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: './a.js' }] });
    expect(t.intensity).to.equal(DEFAULT_INTENSITY);
    const a = t.children[0]!;
    expect(a).to.deep.include({ kind: 'child', restart: 'permanent', shutdown: 5000, significant: false, deadlineMs: 0, maxRedeliveries: 0, backoff: null });
    expect(a.kind === 'child' && a.heartbeat).to.deep.equal({ intervalMs: DEFAULT_HEARTBEAT_MS, misses: 3 });
  });

  it('names the path and the reason of every bad field, all at once', () => {
    const found = problems({
      id: 'root',
      strategy: 'one_for_some',
      children: [
        { id: 'a', module: './a.js' },
        { id: 'b', module: './b.js', restart: 'sometimes' },
        { id: 'c', module: './c.js', shutdown: -5, typo: true },
      ],
    });
    expect(found.some((p) => p.startsWith('tree.strategy: '))).to.equal(true);
    expect(found).to.satisfy((ps: string[]) => ps.some((p) => /^tree\.children\[1\]\.restart: .*permanent.*transient.*temporary/.test(p)));
    expect(found).to.satisfy((ps: string[]) => ps.some((p) => p.startsWith('tree.children[2].shutdown')));
    expect(found).to.satisfy((ps: string[]) => ps.some((p) => /^tree\.children\[2\]: .*typo/.test(p)));
  });

  it('refuses a duration longer than a Node timer can wait, naming its path', () => {
    const found = problems({
      id: 'root',
      strategy: 'one_for_one',
      period: 2 ** 31,
      shutdown: 1e15,
      children: [
        { id: 'a', module: 'x', heartbeat: { intervalMs: 3e9 }, shutdown: 1e15 },
        { id: 'b', module: 'x', backoff: { min: 10, max: 3e9, resetAfter: 3e9 }, deadlineMs: 3e9, mailbox: { waitMs: 3e9 } },
        { id: 'c', pool: { module: 'x', idleTimeout: 3e9 }, breaker: { failures: 1, resetMs: 3e9 } },
      ],
    });
    const reason = `must be a whole number of ms from 0 to ${MAX_TIMEOUT_MS}`;
    expect(found).to.include.members([
      `tree.period: must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`,
      `tree.shutdown: ${reason}`,
      `tree.children[0].heartbeat.intervalMs: must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`,
      `tree.children[0].shutdown: ${reason}`,
      `tree.children[1].backoff.max: ${reason}`,
      `tree.children[1].backoff.resetAfter: ${reason}`,
      `tree.children[1].deadlineMs: ${reason}`,
      `tree.children[1].mailbox.waitMs: must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`,
      `tree.children[2].pool.idleTimeout: ${reason}`,
      `tree.children[2].breaker.resetMs: must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`,
    ]);
    expect(found).to.have.length(10);
    const edge = resolveTree({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: 'x', heartbeat: { intervalMs: MAX_TIMEOUT_MS }, shutdown: MAX_TIMEOUT_MS }] });
    expect(edge.children[0]).to.deep.include({ shutdown: MAX_TIMEOUT_MS, heartbeat: { intervalMs: MAX_TIMEOUT_MS, misses: 3 } });
  });

  it('rejects duplicate ids, unknown dependencies and cycles before anything starts', () => {
    expect(problems({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: 'x' }, { id: 'a', module: 'y' }] })).to.deep.equal([
      "tree.children[1].id: 'a' is already used at tree.children[0]",
    ]);
    expect(problems({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: 'x', dependencies: ['zz'] }] })).to.deep.equal([
      "tree.children[0].dependencies[0]: unknown sibling 'zz'",
    ]);
    const cyc = problems({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: 'x', dependencies: ['c'] },
        { id: 'b', module: 'x', dependencies: ['a'] },
        { id: 'c', module: 'x', dependencies: ['b'] },
      ],
    });
    expect(cyc[0]).to.match(/^tree\.children: dependency cycle: a → c → b → a$/);
  });

  it('orders siblings after their dependencies, otherwise as declared', () => {
    const t = resolveTree({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'exec', module: 'x', dependencies: ['risk'] },
        { id: 'feed', module: 'x' },
        { id: 'risk', module: 'x', dependencies: ['feed'] },
        { id: 'log', module: 'x' },
      ],
    });
    expect(t.children.map((c) => c.id)).to.deep.equal(['feed', 'risk', 'exec', 'log']);
  });

  it('checks simple_one_for_one templates and auto_shutdown restart types', () => {
    expect(problems({ id: 'pool', strategy: 'simple_one_for_one', children: [] })).to.deep.equal(['tree.template: is required for strategy simple_one_for_one']);
    expect(problems({ id: 's', strategy: 'one_for_one', autoShutdown: 'any_significant', children: [] })[0]).to.match(/^tree\.restart: must be transient or temporary/);
    expect(problems({ id: 'a', module: 'x' })).to.deep.equal(['tree: the root must be a supervisor (an object with children)']);
  });

  it('builds a dynamic child from a simple_one_for_one template', () => {
    const t = resolveTree({ id: 'pool', strategy: 'simple_one_for_one', template: { module: './w.js', restart: 'transient', config: { n: 1 } }, children: [] });
    const c = resolveDynamicChild({ id: 'w1', config: { n: 2 } }, t, new Set());
    expect(c).to.deep.include({ id: 'w1', module: './w.js', restart: 'transient', config: { n: 2 } });
    expect(() => resolveDynamicChild({ id: 'w1' }, t, new Set(['w1']))).to.throw(InvalidTreeError, /already used/);
    expect(() => resolveDynamicChild({ id: 'w2', module: 'other' }, t, new Set())).to.throw(InvalidTreeError, /module/);
  });
});

describe('restart budget and backoff', () => {
  it('allows intensity restarts per period and no more', () => {
    const b = new RestartBudget(2, 1000);
    expect([b.spend(0), b.spend(10), b.spend(20)]).to.deep.equal([true, true, false]);
    expect(b.spend(1015)).to.equal(true); // 0 and 10 have aged out
    expect(b.remaining(1016)).to.equal(0);
  });

  it('doubles from min to max, stretches by randomFactor, and resets after a long enough uptime', () => {
    const b = new RestartBackoff({ minMs: 10, maxMs: 50, randomFactor: 0.5, resetAfterMs: 1000 }, () => 1);
    expect([b.next(0), b.next(0), b.next(0), b.next(0)]).to.deep.equal([15, 30, 60, 75]);
    expect(b.next(5000)).to.equal(15);
  });

  it('never waits longer than a Node timer can', () => {
    const b = new RestartBackoff({ minMs: MAX_TIMEOUT_MS, maxMs: MAX_TIMEOUT_MS, randomFactor: 1, resetAfterMs: 1000 }, () => 1);
    expect(b.next(0)).to.equal(MAX_TIMEOUT_MS);
  });
});
