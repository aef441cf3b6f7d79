import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { InvalidTreeError, RingmasterError } from '../errors.js';
import { checkAlertRules, DEFAULT_ALERT_INTERVAL_MS, parseDuration, unknownActorProblems } from '../alerts/rules.js';
import { resolveTree } from '../supervisor/resolve.js';
import type { TreeSpec } from '../supervisor/spec.js';
import { formatOf, joinPath, parseText, splitPath, type ParsedDocument, type PathSegment } from './document.js';
import { CONFIG_FIELDS, configDefaults, configSchema, HTTP_DEFAULTS, TRANSPORT_DEFAULTS, type RingmasterConfig } from './schema.js';
import { fromEnv, fromFlags, type ConfigFlags, type Origin } from './sources.js';
import { Layers, isPlainObject, leaves } from './layers.js';
import { moduleFiles, treeActorIds, unloadableModules, unloadableSetup, type ModuleLoader } from './modules.js';

/** One thing wrong with a configuration: the field, where the bad value came from, and why. */
export interface ConfigProblem {
  /** Dotted path of the field, e.g. `tree.children[1].restart`; '' for the file as a whole. */
  path: string;
  message: string;
  /** `trading.yaml:12`, `env RINGMASTER_HTTP_PORT`, `flag --port`, or the file name when no line is known. */
  origin?: string;
  /** 1-based line in the file, when the value came from the file and the parser knows it. */
  line?: number;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.origin ? `${p.origin}: ` : '';
  return p.path ? `${where}${p.path}: ${p.message}` : `${where}${p.message}`;
}

/**
 * A configuration that cannot be used, with every problem found in one pass.
 * It carries ERR_INVALID_OPTION: a config file is the options of a system.
 */
export class ConfigError extends RingmasterError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];
  /** The file could not be read at all (missing, unreadable, unknown extension). */
  readonly unreadable: boolean;

  constructor(file: string, problems: readonly ConfigProblem[], unreadable = false) {
    super('ERR_INVALID_OPTION', `invalid configuration ${file}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
    this.unreadable = unreadable;
  }
}

export interface LoadOptions {
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ConfigFlags;
  /** Default for `log.pretty`; default: whether stdout is a terminal. */
  stdoutIsTty?: boolean;
  /** Check that every `module` file exists (default true). */
  checkModules?: boolean;
  /**
   * Also load each actor's module that exists (`ringmaster validate` passes
   * a loader that tries it in a throw-away worker), so a module that cannot
   * load is one more problem of the file, reported with all the others.
   */
  loadModule?: ModuleLoader;
  /**
   * Also import the file's `tracing.setup` when it exists (`ringmaster start`
   * imports it into its own thread, `ringmaster validate` into a throw-away
   * worker): a setup that throws is one more problem at `tracing.setup`.
   */
  loadTracingSetup?: (moduleUrl: string) => Promise<void>;
}

export interface LoadedConfig {
  config: RingmasterConfig;
  /** Every leaf of the merged configuration (`http.port`, `tree.children[0].module`, …) → where it came from. */
  origins: ReadonlyMap<string, Origin>;
  /** The file's text, to tell a real change from a touch. */
  text: string;
}

/** Read, merge (defaults < file < environment < flags) and validate a config file; throws ConfigError. */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  if (!formatOf(file)) throw new ConfigError(file, [{ path: '', message: `unknown config format '${extname(file) || '(none)'}': use .yaml, .yml or .json` }], true);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new ConfigError(file, [{ path: '', message: `cannot read ${file}: ${why}` }], true);
  }
  if (!options.loadModule && !options.loadTracingSetup) return parseConfig(text, file, options);
  let loaded: LoadedConfig | null = null;
  let problems: readonly ConfigProblem[] = [];
  try {
    loaded = parseConfig(text, file, options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems = err.problems;
  }
  const parsed = parseText(text, formatOf(file)!);
  if (!('doc' in parsed) || !isPlainObject(parsed.doc.value)) throw new ConfigError(file, problems);
  const doc = parsed.doc;
  const reported = new Set(problems.map((p) => p.path));
  const baseDir = dirname(resolve(file));
  const unloadable = options.loadModule ? await unloadableModules(parsed.doc.value.tree, baseDir, options.loadModule, reported) : [];
  if (options.loadTracingSetup) unloadable.push(...(await unloadableSetup(parsed.doc.value.tracing, baseDir, options.loadTracingSetup, reported)));
  const more = unloadable.map((u) => problemAt(u.path, u.message, { kind: 'file', file }, doc));
  if (problems.length + more.length > 0) throw new ConfigError(file, byPlace([...problems, ...more]));
  return loaded!;
}

/** Merge and validate config text as if read from `file` (its extension picks the format). */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const format = formatOf(file) ?? 'yaml';
  const parsed = parseText(text, format);
  if ('problems' in parsed) {
    throw new ConfigError(file, parsed.problems.map((p) => ({ path: '', message: p.message, origin: p.line ? `${file}:${p.line}` : file, ...(p.line ? { line: p.line } : {}) })));
  }
  const doc = parsed.doc;
  const absFile = resolve(file);
  const fileOrigin = (path: readonly PathSegment[]): Origin => {
    const line = doc.lineOf(path);
    return line === undefined ? { kind: 'file', file } : { kind: 'file', file, line };
  };
  if (!isPlainObject(doc.value)) {
    const got = doc.value === null || doc.value === undefined ? 'an empty document' : Array.isArray(doc.value) ? 'a list' : `a ${typeof doc.value}`;
    throw new ConfigError(file, [{ path: '', message: `must hold a mapping with name, tree, http, log, system and transport; found ${got}`, origin: file }]);
  }

  const layers = new Layers();
  const problems: ConfigProblem[] = [];
  const name = basename(file, extname(file));
  for (const [path, value] of leaves(configDefaults(name, options.stdoutIsTty ?? process.stdout.isTTY === true))) layers.put(path, value, { kind: 'default' });
  for (const [key, value] of Object.entries(doc.value)) {
    if (key === 'tree' || key === 'alerts') {
      // The tree is one value to the merge (nothing overrides part of it), but each of its leaves keeps its line.
      layers.put([key], value, fileOrigin([key]));
      for (const [path] of leaves(value, [key])) layers.note(path, fileOrigin(path));
    } else {
      for (const [path, leaf] of leaves(value, [key])) layers.put(path, leaf, fileOrigin(path));
    }
  }
  for (const o of [...fromEnv(options.env ?? process.env), ...fromFlags(options.flags ?? {})]) {
    if ('error' in o.parsed) problems.push(problemAt(joinPath(o.path), o.parsed.error, o.origin, doc));
    else layers.put(o.path, o.parsed.value, o.origin);
  }
  const merged = layers.value;
  if (isPlainObject(merged.http)) {
    for (const [k, v] of Object.entries(HTTP_DEFAULTS)) if (merged.http[k] === undefined) layers.put(['http', k], v, { kind: 'default' });
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const base = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push(locate([...base, k], `unknown field (known: ${knownKeys(base)})`, layers.origins, file, doc));
      } else problems.push(locate(base, issue.message, layers.origins, file, doc));
    }
  }
  if (merged.tree === undefined) problems.push({ path: 'tree', message: 'is required: the root supervisor of the system', origin: file });
  else problems.push(...treeProblems(merged.tree, file, doc, dirname(absFile), options.checkModules ?? true));
  const tracing = tracingOf(result.success ? result.data.tracing : undefined, dirname(absFile));
  if (tracing?.setup && (options.checkModules ?? true) && !existsSync(tracing.setup)) problems.push(problemAt('tracing.setup', `module file not found: ${tracing.setup}`, fileOrigin(['tracing', 'setup']), doc));
  const alerts = checkAlertRules(merged.alerts);
  const actorIds = treeActorIds(merged.tree);
  // Children of a simple_one_for_one supervisor get their ids at run time; another node of a cluster holds actors of its own.
  if (alerts.problems.length === 0 && !actorIds.dynamic) alerts.problems.push(...unknownActorProblems(merged.alerts, actorIds.ids, { notify: merged.cluster === undefined }));
  problems.push(...alerts.problems.map((p) => problemAt(`alerts${p.path}`, p.message, { kind: 'file', file }, doc)));
  if (problems.length > 0 || !result.success) throw new ConfigError(file, byPlace(problems));

  const data = result.data;
  const config: RingmasterConfig = {
    name: data.name,
    tree: data.tree as TreeSpec,
    http: data.http ? { ...data.http } : null,
    log: data.log,
    system: data.system,
    transport: { ...TRANSPORT_DEFAULTS, ...data.transport },
    persistence: { ...data.persistence },
    cluster: data.cluster ? { ...data.cluster } : null,
    tracing,
    alerts: Array.isArray(data.alerts) ? structuredClone(data.alerts) : [],
    alertIntervalMs: data.alertInterval === undefined ? DEFAULT_ALERT_INTERVAL_MS : parseDuration(data.alertInterval)!,
    file: absFile,
    baseDir: dirname(absFile),
  };
  return { config, origins: layers.origins, text };
}

/** The `tracing` field as the system takes it: on or off, and its setup module as an absolute path (relative paths from the file's folder). */
function tracingOf(t: boolean | { setup?: string | undefined } | undefined, baseDir: string): RingmasterConfig['tracing'] {
  if (!t) return null;
  return { setup: t === true || t.setup === undefined ? null : resolve(baseDir, t.setup) };
}

/** The file's problems in line order, then the environment's and the flags' (in the order they override). */
function byPlace(problems: ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem): number => (p.origin?.startsWith('env ') ? 1e9 : p.origin?.startsWith('flag ') ? 2e9 : (p.line ?? 0));
  return problems.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map((x) => x.p);
}

function knownKeys(base: readonly PathSegment[]): string {
  return CONFIG_FIELDS[joinPath(base)]?.join(', ') ?? '';
}

function problemAt(path: string, message: string, origin: Origin, doc: ParsedDocument): ConfigProblem {
  const line = origin.kind === 'file' ? doc.lineOf(splitPath(path)) : undefined;
  const label = origin.kind === 'env' ? `env ${origin.name}` : origin.kind === 'flag' ? `flag ${origin.flag}` : origin.kind === 'file' ? (line ? `${origin.file}:${line}` : origin.file) : 'default';
  return { path, message, origin: label, ...(line !== undefined ? { line } : {}) };
}

/** A problem at `path`, blamed on the source that set it (or on its nearest ancestor's source). */
function locate(path: readonly PathSegment[], message: string, origins: ReadonlyMap<string, Origin>, file: string, doc: ParsedDocument): ConfigProblem {
  for (let n = path.length; n >= 0; n--) {
    const origin = origins.get(joinPath(path.slice(0, n)));
    if (origin) return problemAt(joinPath(path), message, origin, doc);
  }
  return problemAt(joinPath(path), message, { kind: 'file', file }, doc);
}

/** resolveTree's problems, with lines; an unknown field is pinned to its own key rather than to the object holding it. */
function treeProblems(tree: unknown, file: string, doc: ParsedDocument, baseDir: string, checkModules: boolean): ConfigProblem[] {
  const at = (path: string, message: string): ConfigProblem => problemAt(path, message, { kind: 'file', file }, doc);
  let problems: ConfigProblem[] = [];
  try {
    resolveTree(tree, 'tree');
  } catch (err) {
    if (!(err instanceof InvalidTreeError)) throw err;
    problems = err.problems.flatMap((p) => {
      const unknown = /^Unrecognized keys?: (.*)$/.exec(p.message);
      if (!unknown) return [at(p.path, p.message)];
      return [...unknown[1]!.matchAll(/"([^"]*)"/g)].map((m) => at(`${p.path}.${m[1]}`, 'unknown field'));
    });
  }
  // Every problem at once: a missing module file is reported beside the tree's other mistakes.
  const missing = checkModules ? moduleFiles(tree, baseDir).filter((m) => !existsSync(m.file)) : [];
  return [...problems, ...missing.map((m) => at(m.path, `module file not found: ${m.file}`))];
}
