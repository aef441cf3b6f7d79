import { expect } from 'chai';
import { diffTrees } from '../../src/supervisor/diff.js';
import { resolveTree } from '../../src/supervisor/resolve.js';

const t = (children: unknown[], extra: Record<string, unknown> = {}) => resolveTree({ id: 'root', strategy: 'one_for_one', children, ...extra });
const kinds = (changes: ReturnType<typeof diffTrees>): string[] => changes.map((c) => `${c.kind}:${c.id}`);

describe('tree diff', () => {
  it('finds nothing to do for the same tree', () => {
    const a = t([{ id: 'a', module: 'm' }]);
    expect(diffTrees(a, t([{ id: 'a', module: 'm' }]))).to.deep.equal([]);
  });

  it('configures without a restart when only config or logLevel changed, restarts for anything else', () => {
    const from = t([
      { id: 'a', module: 'm', config: { x: 1 } },
      { id: 'b', module: 'm' },
      { id: 'c', module: 'm' },
    ]);
    const to = t([
      { id: 'a', module: 'm', config: { x: 2 } },
      { id: 'b', module: 'm', logLevel: 'debug' },
      { id: 'c', module: 'm2', config: { y: 1 } },
    ]);
    const changes = diffTrees(from, to);
    expect(kinds(changes)).to.deep.equal(['configure:a', 'log-level:b', 'restart:c']);
    expect(changes[2]).to.deep.include({ fields: ['module', 'config'] });
  });

  it('removes newest first, adds in start order, and moves a node by removing and adding it', () => {
    const from = t([{ id: 'a', module: 'm' }, { id: 'sub', strategy: 'one_for_one', children: [{ id: 'x', module: 'm' }, { id: 'y', module: 'm' }] }, { id: 'z', module: 'm' }]);
    const to = t([
      { id: 'a', module: 'm' },
      { id: 'x', module: 'm' },
      { id: 'n2', module: 'm', dependencies: ['n1'] },
      { id: 'n1', module: 'm' },
    ]);
    expect(kinds(diffTrees(from, to))).to.deep.equal(['remove:z', 'remove:sub', 'add:x', 'add:n1', 'add:n2']);
  });

  it('adds a new supervisor with its children as one node, and notices changed supervisor fields', () => {
    const from = t([{ id: 'a', module: 'm' }]);
    const to = t([{ id: 'a', module: 'm' }, { id: 'sub', strategy: 'one_for_all', children: [{ id: 'x', module: 'm' }] }], { intensity: 9 });
    const changes = diffTrees(from, to);
    expect(kinds(changes)).to.deep.equal(['supervisor:root', 'add:sub']);
    expect(changes[0]).to.deep.include({ fields: ['intensity'] });
  });

  it('leaves children spawned under a simple_one_for_one supervisor alone', () => {
    const running = t([{ id: 'pool', strategy: 'simple_one_for_one', template: { module: 'w' }, children: [] }]);
    (running.children[0] as { children: unknown[] }).children.push({ ...resolveTree({ id: 'x', strategy: 'one_for_one', children: [{ id: 'w1', module: 'w' }] }).children[0] });
    const to = t([{ id: 'pool', strategy: 'simple_one_for_one', template: { module: 'w' }, children: [] }, { id: 'a', module: 'm' }]);
    expect(kinds(diffTrees(running, to))).to.deep.equal(['add:a']);
  });
});
