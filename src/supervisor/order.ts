import type { SpecProblem } from '../errors.js';

/**
 * Order siblings so each starts after its dependencies; ties keep the
 * declared order. Unknown dependencies and cycles are problems (the cycle
 * named in full, `a → c → b → a`), found before anything starts.
 */
export function startOrder<T extends { id: string; dependencies: string[] }>(nodes: T[], path: string, problems: SpecProblem[]): T[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  nodes.forEach((n, i) => {
    n.dependencies.forEach((d, j) => {
      if (!byId.has(d)) problems.push({ path: `${path}.children[${i}].dependencies[${j}]`, message: `unknown sibling '${d}'` });
    });
  });
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: T, chain: string[]): void => {
    const s = state.get(n.id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...chain.slice(chain.indexOf(n.id)), n.id].join(' → ');
      problems.push({ path: `${path}.children`, message: `dependency cycle: ${cycle}` });
      return;
    }
    state.set(n.id, 'visiting');
    for (const d of n.dependencies) {
      const dep = byId.get(d);
      if (dep) visit(dep, [...chain, n.id]);
    }
    state.set(n.id, 'done');
    out.push(n);
  };
  for (const n of nodes) visit(n, []);
  return out;
}
