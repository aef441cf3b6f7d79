import { Worker } from 'node:worker_threads';
import { checkModule } from '../cell/standby.js';
import { HOST_URL } from '../system/services.js';
import { DEFAULT_INIT_TIMEOUT_MS } from '../supervisor/defaults.js';
import { loadConfig, describeConfig, renderConfig, type LoadedConfig } from '../config/index.js';
import type { TreeSpec } from '../supervisor/spec.js';
import { baseUrl, fetchJson, DEFAULT_STATUS_URL } from './http-client.js';
import { CONFIG_OPTIONS, configFlags, EXIT_FAILURE, EXIT_OK, HELP, parse, requireFile, UsageError } from './usage.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

function count(tree: TreeSpec): { actors: number; supervisors: number } {
  if (!('children' in tree)) return { actors: 1, supervisors: 0 };
  return tree.children.reduce(
    (acc, c) => {
      const n = count(c);
      return { actors: acc.actors + n.actors, supervisors: acc.supervisors + n.supervisors };
    },
    { actors: 0, supervisors: 1 },
  );
}

/** One line saying what a valid config describes. */
export function summarize(loaded: LoadedConfig): string {
  const { name, tree, http } = loaded.config;
  const n = count(tree);
  const where = http ? `HTTP on ${http.host}:${http.port}` : 'no HTTP';
  return `system '${name}': ${n.actors} actor${n.actors === 1 ? '' : 's'} under ${n.supervisors} supervisor${n.supervisors === 1 ? '' : 's'}, ${where}`;
}

export async function validateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('validate', args, CONFIG_OPTIONS, 1);
  if (values.help) return help('validate', io);
  const file = requireFile('validate', positionals);
  // Each actor's module is loaded once, in a throw-away worker, as a start would.
  // A module whose import never finishes fails like a start whose init never does.
  const loadModule = (url: string, id: string): Promise<void> => checkModule(HOST_URL, id, url, {}, DEFAULT_INIT_TIMEOUT_MS);
  const loadTracingSetup = (url: string): Promise<void> => importInWorker(url, DEFAULT_INIT_TIMEOUT_MS);
  const loaded = await loadConfig(file, { flags: configFlags(values), loadModule, loadTracingSetup });
  io.out(`${file}: OK — ${summarize(loaded)}`);
  return EXIT_OK;
}

/** A worker that imports the module its workerData names and says whether that worked. */
const IMPORTER = `const { parentPort, workerData } = require('node:worker_threads');
import(workerData).then(() => parentPort.postMessage(null), (err) => parentPort.postMessage(err instanceof Error ? err.message : String(err)));`;

/**
 * Import a module (a `tracing.setup`) in a throw-away worker, as a start
 * would import it, and end the worker: resolves when it loads, rejects with
 * why it cannot (its error, its worker dying, or `timeoutMs` passing).
 */
function importInWorker(moduleUrl: string, timeoutMs: number): Promise<void> {
  const worker = new Worker(IMPORTER, { eval: true, workerData: moduleUrl, stdout: true, stderr: true });
  let timer: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish loading within ${timeoutMs} ms`)), timeoutMs);
    worker.once('message', (why: string | null) => (why === null ? resolve() : reject(new Error(why))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`its worker exited (code ${code}) before it finished loading`)));
  }).finally(() => {
    clearTimeout(timer);
    void worker.terminate();
  });
}

export async function configCommand(args: string[], io: Io): Promise<number> {
  if (args[0] === 'rollback') return rollbackCommand(args.slice(1), io);
  const { values, positionals } = parse('config', args, { ...CONFIG_OPTIONS, print: { type: 'boolean' }, json: { type: 'boolean' } }, 1);
  if (values.help) return help('config', io);
  if (!values.print) throw new UsageError('config', "say what to do: 'config --print <file>' or 'config rollback [version]'");
  const loaded = await loadConfig(requireFile('config', positionals), { flags: configFlags(values) });
  if (values.json) {
    const { config, entries } = describeConfig(loaded);
    const origins = Object.fromEntries(entries.map((e) => [e.path, e.origin]));
    io.out(JSON.stringify({ file: loaded.config.file, baseDir: loaded.config.baseDir, config, origins }, null, 2));
  } else {
    io.out(renderConfig(loaded));
  }
  return EXIT_OK;
}

async function rollbackCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('config', args, { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 1);
  if (values.help) return help('config', io);
  let version: number | undefined;
  if (positionals[0] !== undefined) {
    version = Number(positionals[0]);
    if (!/^\d+$/.test(positionals[0]) || version < 1) throw new UsageError('config', `the version must be a positive integer, got '${positionals[0]}'`);
  }
  const token = values.token ?? process.env.RINGMASTER_HTTP_TOKEN;
  if (!token) throw new UsageError('config', 'rollback needs the bearer token: --token <token> or RINGMASTER_HTTP_TOKEN');
  const url = baseUrl('config', values.url ?? DEFAULT_STATUS_URL);
  const answer = await fetchJson(url, '/api/config/rollback', { method: 'POST', token, body: version === undefined ? {} : { version } });
  if (!answer.ok) {
    io.err(`ringmaster config rollback: ${answer.message}`);
    return EXIT_FAILURE;
  }
  const v = (answer.json as { version?: { version: number; restored?: number; changes?: Array<{ kind: string; id: string }> } }).version;
  const changes = v?.changes?.map((c) => `${c.kind}:${c.id}`).join(', ') || 'none';
  io.out(`rolled back: version ${v?.version ?? '?'} restores version ${v?.restored ?? '?'} (changes: ${changes})`);
  return EXIT_OK;
}

export function help(command: string, io: Io): number {
  io.out(HELP[command] ?? HELP.main!);
  return EXIT_OK;
}

