// The layers of the source tree: for each folder of src/ (and for workers/), the
// folders it may import. ARCHITECTURE.md draws this map; this file is the one
// copy of it that the build reads, twice:
//   - eslint.config.js turns it into the `layers/imports` rule, so an arrow the
//     table does not allow is a lint error on the import line (a red `npm test`);
//   - test/unit/architecture.test.ts reads every source file and checks that the
//     folders form no cycle and that every edge between them is allowed here.
// Both classify an import with `importTarget` and judge it with `mayImport`
// below, so the two checks cannot disagree about what an arrow is.
import path from 'node:path';

/** A row that may import every row of src/ above it in LAYERS (it is near the top). */
export const ANY = '*';

/**
 * Folder → the folders it may import, bottom to top: a row names only rows above
 * it, so the table itself has no cycle. A folder of src/ is named by its name
 * (`ring`), a file directly in src/ by its name without extension (`errors` is
 * src/errors.ts), and the thin worker entry files by `workers`. Imports inside a
 * row's own folder are always allowed. `import type` counts the same as a value
 * import: a type-only arrow still ties one folder's design to another's (and one
 * edit turns it into a value import), and it would hide a cycle.
 */
export const LAYERS = {
  // the ground
  'error-codes': [],
  errors: ['error-codes'],
  defaults: [], // and nothing at all, not even a package or node: (SEALED)
  events: ['errors'], // the event vocabulary (types only)
  // leaves
  ring: ['errors', 'defaults'],
  codec: ['errors', 'defaults'],
  bus: ['errors'],
  log: ['errors', 'defaults'],
  liveness: ['events', 'errors', 'defaults'],
  resilience: ['errors'],
  trace: ['codec', 'errors'], // OpenTelemetry: the trace context a send carries, the span of a handled message
  // one thread's machinery
  transport: ['ring', 'codec', 'errors', 'defaults'],
  actor: ['transport', 'codec', 'ring', 'bus', 'errors', 'defaults'],
  persistence: ['errors', 'defaults'], // journals and snapshot stores (SQLite), opened by a persistent actor's own thread
  host: ['trace', 'actor', 'transport', 'codec', 'ring', 'bus', 'log', 'liveness', 'persistence', 'errors', 'defaults'],
  // the main thread's machinery
  supervisor: ['bus', 'resilience', 'errors', 'defaults'],
  health: ['liveness', 'errors', 'defaults'],
  // the main thread's side of one child actor: its record, the worker it runs in
  cell: ['trace', 'actor', 'transport', 'codec', 'ring', 'bus', 'liveness', 'host', 'persistence', 'supervisor', 'health', 'events', 'errors', 'defaults'],
  pool: ['trace', 'cell', 'actor', 'transport', 'codec', 'ring', 'liveness', 'supervisor', 'log', 'events', 'errors', 'defaults'],
  workers: ['trace', 'host', 'actor', 'codec', 'pool', 'errors', 'defaults'], // pool: the pool worker reads the pool's protocol file
  // this system as one node of a cluster on NATS (main thread): membership, proxies of remote actors, the path between nodes
  cluster: ['actor', 'transport', 'codec', 'persistence', 'events', 'errors', 'defaults'],
  system: ['trace', 'cluster', 'cell', 'pool', 'actor', 'transport', 'codec', 'ring', 'bus', 'log', 'liveness', 'host', 'persistence', 'supervisor', 'health', 'resilience', 'events', 'errors', 'defaults'],
  // around the system
  alerts: ['system', 'resilience', 'events', 'errors', 'defaults'], // alert rules over a running system, their evaluation and notifiers (main thread)
  metrics: ['system', 'cell', 'resilience', 'liveness', 'events', 'errors', 'defaults'],
  config: ['alerts', 'system', 'supervisor', 'log', 'events', 'errors', 'defaults'],
  http: ['alerts', 'system', 'metrics', 'config', 'persistence', 'events', 'errors', 'defaults'],
  launch: ['alerts', 'system', 'config', 'http', 'errors'], // a system with its config file and HTTP listener (ActorSystem.fromConfig)
  // entry points (ANY: every row of src/ above them; never workers/)
  internal: ANY,
  index: ANY,
  cli: ANY,
};

/** Rows that may import nothing at all: no other row, no package, no node: module. */
export const SEALED = ['defaults'];

/** Messages kept word for word from before the table (a row not listed here gets the generated one). */
const MESSAGES = {
  resilience: 'src/resilience may import only ../errors.js of the project (it must load in a worker without the system).',
};

/** The package's own name: src/ imports itself by relative path, never through the package's exports. */
export const PACKAGE_NAME = 'ringmaster';

const ROWS = Object.keys(LAYERS);

/** The rows that are one file directly in src/ rather than a folder. */
const FILE_ROWS = new Set(['error-codes', 'errors', 'defaults', 'events', 'index', 'internal']);

/** How a row is written in a message: src/codec, src/errors.ts, workers/. */
export function rowPath(row) {
  if (row === 'workers') return 'workers/';
  return FILE_ROWS.has(row) ? `src/${row}.ts` : `src/${row}`;
}

/**
 * The row a file belongs to, from its path relative to the repository root
 * (posix separators): `src/codec/envelope.ts` → codec, `src/errors.js` →
 * errors, `workers/actor-host.ts` → workers; undefined outside src/ and workers/.
 * A row that is not in LAYERS (a new folder) is still returned, by its name.
 */
export function rowOf(rel) {
  const parts = rel.split('/');
  if (parts.length < 2 || parts.some((p) => p === '..')) return undefined;
  if (parts[0] === 'workers') return 'workers';
  if (parts[0] !== 'src') return undefined;
  return parts.length === 2 ? parts[1].replace(/(\.d)?\.[cm]?[jt]sx?$/, '') : parts[1];
}

/** The rows `row` may import besides itself (ANY expanded). */
export function allowedRows(row) {
  const allowed = LAYERS[row];
  if (allowed === undefined) return [];
  if (allowed !== ANY) return allowed;
  return ROWS.slice(0, ROWS.indexOf(row)).filter((r) => r !== 'workers');
}

/** May code of row `from` import code of row `to` (undefined: outside src/ and workers/)? */
export function mayImport(from, to) {
  if (to === undefined || !(from in LAYERS)) return false;
  return from === to || allowedRows(from).includes(to);
}

/** The rule a row breaks when it imports what it may not, as a lint message says it. */
export function ruleFor(row) {
  if (!(row in LAYERS)) return `${rowPath(row)} has no row in the layer table (scripts/layers.mjs): give it one; see ARCHITECTURE.md`;
  if (MESSAGES[row]) return MESSAGES[row];
  if (SEALED.includes(row)) return `${rowPath(row)} may import nothing at all (no project file, no package, no node: module); see ARCHITECTURE.md`;
  const allowed = allowedRows(row);
  if (LAYERS[row] === ANY) {
    const above = ROWS.filter((r) => r !== row && r !== 'workers' && !allowed.includes(r));
    const but = above.length ? ` but ${above.map(rowPath).join(', ')}` : '';
    return `${rowPath(row)} may import anything of src/${but} (never workers/); see ARCHITECTURE.md`;
  }
  if (allowed.length === 0) return `${rowPath(row)} may import nothing of the project; see ARCHITECTURE.md`;
  return `${rowPath(row)} may import only ${allowed.join(', ')}; see ARCHITECTURE.md`;
}

/**
 * What an import in the file at `importer` (relative to the repository root,
 * posix) reaches: `{ from, to, target }` where `to` is the row of the imported
 * file (undefined outside src/ and workers/) and `target` the imported path as a
 * message names it, or undefined when the import is a package the layers do not
 * govern. For a SEALED row, every import counts.
 */
export function importTarget(importer, specifier) {
  const from = rowOf(importer);
  if (from === undefined) return undefined;
  if (specifier.startsWith('.')) {
    const rel = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
    const to = rowOf(rel);
    return { from, to, target: to === undefined ? rel : rowPath(to) };
  }
  if (specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`)) return { from, to: undefined, target: `the package itself ('${specifier}'; use a relative path)` };
  if (SEALED.includes(from)) return { from, to: undefined, target: `'${specifier}'` };
  return undefined;
}

/** The message for an import that breaks the table, or undefined for one it allows. */
export function checkImport(importer, specifier) {
  const t = importTarget(importer, specifier);
  if (t === undefined || mayImport(t.from, t.to)) return undefined;
  return `${ruleFor(t.from)} ('${specifier}' is ${t.target})`;
}
