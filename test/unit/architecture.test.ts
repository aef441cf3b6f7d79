import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';

/** What scripts/layers.mjs exports (the table eslint.config.js reads too). */
interface Layers {
  ANY: string;
  LAYERS: Record<string, readonly string[] | string>;
  SEALED: readonly string[];
  rowOf(rel: string): string | undefined;
  rowPath(row: string): string;
  allowedRows(row: string): readonly string[];
  mayImport(from: string, to: string | undefined): boolean;
  ruleFor(row: string): string;
  importTarget(importer: string, specifier: string): { from: string; to: string | undefined; target: string } | undefined;
  checkImport(importer: string, specifier: string): string | undefined;
}

/** The repository root, from where this test runs (dist/test/unit/). */
const root = new URL('../../../', import.meta.url);
const rootDir = fileURLToPath(root);
// tsc does not emit .mjs files into dist/, so the table is read from the source tree.
const layers = (await import(new URL('scripts/layers.mjs', root).href)) as Layers;

const MAX_LINES = 350;

interface Source {
  rel: string; // relative to the repository root, with / separators
  text: string;
}

/** Every TypeScript source under `dir` (relative to the repository root). */
function sources(dir: string): Source[] {
  return (readdirSync(new URL(dir, root), { recursive: true }) as string[])
    .map((name) => `${dir}/${name.split(path.sep).join('/')}`)
    .filter((rel) => rel.endsWith('.ts') && !rel.endsWith('.d.ts'))
    .sort()
    .map((rel) => ({ rel, text: readFileSync(new URL(rel, root), 'utf8') }));
}

interface Import {
  file: string;
  line: number;
  specifier: string;
}

const where = (i: Import): string => `${i.file}:${i.line} '${i.specifier}'`;

/**
 * Every module a file names, by TypeScript's own scanner (comments and strings
 * skipped): import and import type, export ... from, import(), require(),
 * import x = require(), typeof import().
 */
function importsOf({ rel, text }: Source): Import[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => ({
    file: rel,
    line: text.slice(0, f.pos).split('\n').length,
    specifier: f.fileName,
  }));
}

/** Folder → folder it imports → the imports that make the arrow (arrows inside a folder left out). */
type Graph = Map<string, Map<string, Import[]>>;

function folderGraph(files: readonly Source[]): Graph {
  const graph: Graph = new Map();
  for (const file of files) {
    for (const i of importsOf(file)) {
      const t = layers.importTarget(i.file, i.specifier);
      if (t?.to === undefined || t.to === t.from) continue;
      const out = graph.get(t.from) ?? graph.set(t.from, new Map()).get(t.from)!;
      out.set(t.to, [...(out.get(t.to) ?? []), i]);
    }
  }
  return graph;
}

/**
 * The cycles of a directed graph, one per knot (strongly connected component of
 * more than one node, or a node with an arrow to itself): the shortest cycle
 * through the knot's first node by name, written [a, b, …, a].
 */
function findCycles(graph: ReadonlyMap<string, Iterable<string>>): string[][] {
  const next = (v: string): string[] => [...(graph.get(v) ?? [])];
  const nodes = [...new Set([...graph.keys(), ...[...graph.keys()].flatMap(next)])].sort();
  // Tarjan's strongly connected components
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const knots: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const knot = stack.splice(stack.indexOf(v));
    if (knot.length > 1 || next(v).includes(v)) knots.push(knot.sort());
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return knots.map((knot) => shortestCycle(next, knot[0]!, new Set(knot))).sort((a, b) => a.join().localeCompare(b.join()));
}

function shortestCycle(next: (v: string) => string[], start: string, within: ReadonlySet<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  for (const v of queue) {
    for (const w of next(v)) {
      if (w === start) {
        const cycle = [start];
        for (let u = v; u !== start; u = prev.get(u)!) cycle.splice(1, 0, u);
        return [...cycle, start];
      }
      if (within.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`${start} is on no cycle`);
}

/** A cycle as a failure names it: the folders, then one import for each of its arrows. */
function describeCycle(graph: Graph, cycle: readonly string[]): string {
  const arrows = cycle.slice(1).map((to, k) => `${where(graph.get(cycle[k]!)!.get(to)![0]!)}`);
  return `${cycle.map(layers.rowPath).join(' → ')} (${arrows.join('; ')})`;
}

const graphOf = (edges: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(edges));

describe('architecture', () => {
  const files = [...sources('src'), ...sources('workers')];

  describe('the cycle finder', () => {
    it('names a cycle by its folders, the shortest through its first one', () => {
      const cycles = findCycles(graphOf({ a: ['b'], b: ['c', 'd'], c: ['a', 'b'], d: [] }));
      expect(cycles).to.deep.equal([['a', 'b', 'c', 'a']]);
    });

    it('finds every knot once, a self-arrow too', () => {
      const cycles = findCycles(graphOf({ pool: ['system', 'ring'], system: ['pool'], x: ['y'], y: ['z'], z: ['x'], w: ['w'] }));
      expect(cycles).to.deep.equal([['pool', 'system', 'pool'], ['w', 'w'], ['x', 'y', 'z', 'x']]);
    });

    it('passes a graph without a cycle, a diamond and a shared leaf included', () => {
      expect(findCycles(graphOf({ top: ['left', 'right'], left: ['ground'], right: ['ground', 'leaf'], leaf: ['ground'] }))).to.deep.equal([]);
      expect(findCycles(new Map())).to.deep.equal([]);
    });
  });

  describe('the layer table', () => {
    it('names only its own rows, each row only rows above it, so the table has no cycle', () => {
      const rows = Object.keys(layers.LAYERS);
      const problems = rows.flatMap((row, k) => {
        const allowed = layers.LAYERS[row]!;
        if (allowed === layers.ANY) return [];
        return [...allowed].filter((to) => !rows.slice(0, k).includes(to)).map((to) => `${row} → ${to}`);
      });
      expect(problems, 'arrows to a row that is not above').to.deep.equal([]);
      expect(findCycles(new Map(rows.map((r) => [r, layers.allowedRows(r)])))).to.deep.equal([]);
    });

    it('has a row for every folder and file of src/', () => {
      const entries = readdirSync(new URL('src/', root)).filter((name) => statSync(new URL(`src/${name}`, root)).isDirectory() || name.endsWith('.ts'));
      const missing = entries.filter((name) => !(layers.rowOf(`src/${name}`)! in layers.LAYERS));
      expect(missing).to.deep.equal([]);
    });

    it('places an import where its path resolves, from any depth of a folder', () => {
      expect(layers.importTarget('src/codec/envelope.ts', '../ring/ring.js')).to.deep.equal({ from: 'codec', to: 'ring', target: 'src/ring' });
      expect(layers.importTarget('src/http/dashboard/live-feed.ts', '../../system/system.js')).to.include({ from: 'http', to: 'system' });
      expect(layers.importTarget('src/http/dashboard/routes.ts', '../routes.js')).to.include({ from: 'http', to: 'http' });
      expect(layers.importTarget('src/codec/envelope.ts', '../ring/../system/x.js')).to.include({ to: 'system' });
      expect(layers.importTarget('src/index.ts', './errors.js')).to.include({ from: 'index', to: 'errors', target: 'src/errors.ts' });
      expect(layers.importTarget('src/pool/cell.ts', '../../workers/pool-worker.js')).to.include({ to: 'workers', target: 'workers/' });
      expect(layers.importTarget('workers/actor-host.ts', '../src/host/host.js')).to.include({ from: 'workers', to: 'host' });
      expect(layers.importTarget('src/ring/ring.ts', '../../test/fixtures/x.js')).to.deep.equal({ from: 'ring', to: undefined, target: 'test/fixtures/x.js' });
      expect(layers.importTarget('src/ring/ring.ts', 'msgpackr'), 'a package').to.equal(undefined);
      expect(layers.importTarget('src/defaults.ts', 'node:os'), 'anything, for a sealed row').to.include({ from: 'defaults', to: undefined });
      expect(layers.importTarget('src/cli/main.ts', 'ringmaster/actor'), 'the package itself').to.include({ to: undefined });
      expect(layers.importTarget('test/unit/x.test.ts', '../../src/system/system.js'), 'tests are not governed').to.equal(undefined);
    });

    it('allows its own folder and the listed rows, nothing else, and says which rule an import breaks', () => {
      expect(layers.mayImport('codec', 'codec')).to.equal(true);
      expect(layers.mayImport('codec', 'errors')).to.equal(true);
      expect(layers.mayImport('codec', 'ring')).to.equal(false);
      expect(layers.mayImport('system', 'workers')).to.equal(false);
      expect(layers.mayImport('cli', 'index'), 'an ANY row: everything above').to.equal(true);
      expect(layers.mayImport('index', 'cli'), 'an ANY row: nothing below').to.equal(false);
      expect(layers.mayImport('cli', 'workers'), 'an ANY row: never workers/').to.equal(false);
      expect(layers.mayImport('ring', undefined), 'outside src/ and workers/').to.equal(false);
      expect(layers.mayImport('telepathy', 'errors'), 'a folder without a row').to.equal(false);
      expect(layers.checkImport('src/codec/envelope.ts', '../errors.js')).to.equal(undefined);
      expect(layers.checkImport('src/codec/envelope.ts', '../ring/ring.js')).to.equal("src/codec may import only errors, defaults; see ARCHITECTURE.md ('../ring/ring.js' is src/ring)");
      expect(layers.checkImport('src/defaults.ts', 'node:os')).to.match(/^src\/defaults\.ts may import nothing at all/);
      expect(layers.checkImport('src/error-codes.ts', './defaults.js')).to.match(/^src\/error-codes\.ts may import nothing of the project/);
      expect(layers.checkImport('src/errors.ts', './error-codes.js')).to.equal(undefined);
      expect(layers.checkImport('src/resilience/retry.ts', '../bus/trie.js')).to.match(/^src\/resilience may import only \.\.\/errors\.js of the project \(it must load in a worker/);
      expect(layers.ruleFor('index')).to.equal('src/index.ts may import anything of src/ but src/cli (never workers/); see ARCHITECTURE.md');
    });
  });

  describe('the lint rule (eslint.config.js, on the same table)', () => {
    // One arrow the table forbids (codec → system), named in every way a file can name a module.
    const probe = [
      "import { a } from '../system/a.js';",
      "import type { B } from '../system/b.js';",
      "export { c } from '../system/c.js';",
      "export type { D } from '../system/d.js';",
      "export * from '../system/e.js';",
      "export const f = () => import('../system/f.js');",
      "export type G = typeof import('../system/g.js');",
      "import h = require('../system/h.js');",
      "export const i = require('../system/i.js');",
      "// import { j } from '../system/j.js';",
      "export const k = [a, h] as B;",
      "import { l } from '../errors.js';",
      "import { m } from './envelope.js';",
      "import { n } from 'msgpackr';",
      'export { l, m, n };',
      '',
    ].join('\n');
    let eslint: ESLint;
    const lint = async (text: string, file: string): Promise<{ line: number; message: string }[]> => {
      const [result] = await eslint.lintText(text, { filePath: path.join(rootDir, file) });
      return result!.messages.filter((m) => m.ruleId === 'layers/imports').map(({ line, message }) => ({ line, message }));
    };

    before(() => {
      eslint = new ESLint({ cwd: rootDir });
    });

    it('reports each way of naming a forbidden folder, on its line, with the row’s rule; allows the rest', async () => {
      const found = await lint(probe, 'src/codec/probe.ts');
      expect(found.map((m) => m.line)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(found[0]!.message).to.equal("src/codec may import only errors, defaults; see ARCHITECTURE.md ('../system/a.js' is src/system)");
    });

    it('sees the same imports as this test’s scanner', async () => {
      const scanned = importsOf({ rel: 'src/codec/probe.ts', text: probe }).filter((i) => layers.checkImport(i.file, i.specifier) !== undefined);
      expect(scanned.map((i) => i.line)).to.deep.equal((await lint(probe, 'src/codec/probe.ts')).map((m) => m.line));
    });

    it('judges a file deeper in its folder by its folder, and leaves tests alone', async () => {
      expect(await lint("import { x } from '../../system/x.js';\nimport { y } from '../respond.js';\nexport { x, y };\n", 'src/http/dashboard/probe.ts')).to.deep.equal([]);
      expect(await lint("import { x } from '../../ring/x.js';\nexport { x };\n", 'src/http/dashboard/probe.ts')).to.have.length(1);
      expect(await lint("import { x } from '../../src/system/x.js';\nexport { x };\n", 'test/unit/probe.ts')).to.deep.equal([]);
    });

    it('reports a folder of src/ that has no row', async () => {
      const found = await lint("import { x } from '../errors.js';\nexport { x };\n", 'src/telepathy/probe.ts');
      expect(found.map((m) => m.message)).to.deep.equal(['src/telepathy has no row in the layer table (scripts/layers.mjs): give it one; see ARCHITECTURE.md']);
    });
  });

  describe('the source tree', () => {
    it('has no cycle between folders', () => {
      const graph = folderGraph(files);
      const cycles = findCycles(new Map([...graph].map(([from, out]) => [from, [...out.keys()]])));
      expect(cycles.map((c) => describeCycle(graph, c)), 'folder cycles').to.deep.equal([]);
    });

    it('imports across folders only what the layer table allows', () => {
      const broken = files.flatMap((file) =>
        importsOf(file).flatMap((i) => {
          const message = layers.checkImport(i.file, i.specifier);
          return message === undefined ? [] : [`${i.file}:${i.line} → ${message}`];
        }),
      );
      expect(broken, 'imports the layer table does not allow').to.deep.equal([]);
    });

    it(`has no source file of src/ over ${MAX_LINES} lines`, () => {
      const long = files
        .filter((f) => f.rel.startsWith('src/'))
        .map((f) => ({ rel: f.rel, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
        .filter((f) => f.lines > MAX_LINES)
        .map((f) => `${f.rel} (${f.lines} lines)`);
      expect(long, `files over ${MAX_LINES} lines`).to.deep.equal([]);
    });
  });
});
