import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { InvalidOptionError, InvalidTreeError } from '../errors.js';
import type { TreeChange } from '../supervisor/diff.js';
import type { TreeSpec } from '../supervisor/spec.js';
import type { ActorSystem } from '../system/system.js';
import { ConfigError, formatProblem, parseConfig, type ConfigProblem, type LoadedConfig } from './load.js';
import type { LogLevel, RingmasterConfig } from './schema.js';
import type { ConfigFlags } from './sources.js';
import { FileWatcher, type WatchOptions } from './watch.js';

/** Applied versions kept for rollback; older ones are dropped (numbers keep counting). */
export const DEFAULT_VERSION_HISTORY = 50;

export type VersionSource = 'start' | 'file' | 'rollback';
export type ChangeSummary = { kind: TreeChange['kind']; id: string };

/** One configuration the running system has had. */
export interface ConfigVersion {
  /** 1 = the configuration the system started with. */
  version: number;
  /** ISO time it was applied. */
  at: string;
  source: VersionSource;
  changes: ChangeSummary[];
  tree: TreeSpec;
  logLevel: LogLevel;
  /** The `alerts:` rules as written. */
  alerts: unknown[];
  /** For a rollback: the version it restored. */
  restored?: number;
}

export type ReloadOutcome =
  | { status: 'applied'; version: number; changes: ChangeSummary[]; needsRestart: string[] }
  | { status: 'rejected'; problems: ConfigProblem[] }
  | { status: 'unchanged'; version: number }
  | { status: 'ignored'; reason: string };

export interface ConfigManagerOptions extends WatchOptions {
  /** The environment and flags the system was started with; a reload merges the file with the same ones. */
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ConfigFlags;
  historyLimit?: number;
  /** The alert manager the file's `alerts:` rules go to on each applied change (and rollback). */
  alerts?: { setRules(raw: unknown): void };
}

/** Fields read once at start; a change to them waits for the next start. */
const START_ONLY: ReadonlyArray<[string, (c: RingmasterConfig) => unknown]> = [
  ['name', (c) => c.name],
  ['http', (c) => c.http],
  ['log.pretty', (c) => c.log.pretty],
  ['system', (c) => c.system],
  ['transport', (c) => c.transport],
  ['persistence', (c) => c.persistence],
  ['cluster', (c) => c.cluster],
  ['alertInterval', (c) => c.alertIntervalMs],
  // Each worker boots with it, and the main thread's sends follow it: on or off for the system's whole run.
  ['tracing', (c) => c.tracing],
];

/**
 * Keeps a running system in step with its config file: watches it, applies
 * each valid change with applyTree (a change is taken whole or not at all),
 * keeps every applied version for rollback, and counts outcomes.
 */
export class ConfigManager {
  readonly #system: ActorSystem;
  readonly #started: RingmasterConfig;
  readonly #options: ConfigManagerOptions;
  readonly #versions: ConfigVersion[] = [];
  readonly #counts = { applied: 0, rejected: 0 };
  #lastText: string;
  #nextVersion = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #fileReloadQueued = false;
  #watcher: FileWatcher | null = null;

  constructor(system: ActorSystem, initial: LoadedConfig, options: ConfigManagerOptions = {}) {
    this.#system = system;
    this.#started = initial.config;
    this.#options = options;
    this.#lastText = initial.text;
    this.#record('start', [], initial.config.tree, initial.config.log.level, initial.config.alerts);
  }

  get file(): string {
    return this.#started.file;
  }

  /** The configuration the system started with (start-only fields such as `http` keep these values until the next start). */
  get started(): RingmasterConfig {
    return this.#started;
  }

  get current(): ConfigVersion {
    return this.#versions[this.#versions.length - 1]!;
  }

  versions(): ConfigVersion[] {
    return this.#versions.map((v) => ({ ...v, changes: [...v.changes] }));
  }

  counts(): { applied: number; rejected: number } {
    return { ...this.#counts };
  }

  /** Watch the file and apply its changes until close(). */
  async watch(): Promise<void> {
    if (this.#watcher) return;
    const onError = (err: Error): void => {
      this.#system.log.warn({ component: 'config', file: this.file, err: err.message }, 'cannot watch the config file; polling it instead');
      this.#options.onError?.(err);
    };
    const { debounceMs, pollMs } = this.#options;
    this.#watcher = new FileWatcher(this.file, () => this.#fileChanged(), { debounceMs, pollMs, onError });
    await this.#watcher.start();
  }

  /** Read the file now and apply it if it changed (what a file change does; also `POST /api/config/reload`). */
  reload(): Promise<ReloadOutcome> {
    return this.#serially(() => this.#reload());
  }

  /** Re-apply version `version` (default: the one before the current one) as a new version. */
  rollback(version?: number): Promise<ConfigVersion> {
    return this.#serially(async () => {
      const target = version === undefined ? this.#versions[this.#versions.length - 2] : this.#versions.find((v) => v.version === version);
      if (!target) {
        const known = this.#versions.map((v) => v.version).join(', ');
        throw new InvalidOptionError('version', version === undefined ? 'has no default: there is no previous version' : `${version} is not a kept version (kept: ${known})`);
      }
      const changes = await this.#apply(target.tree, target.logLevel, target.alerts).catch((err: unknown) => {
        this.#counts.rejected++;
        this.#system.log.warn({ component: 'config', version: target.version, err: (err as Error).message }, 'config rollback failed');
        this.#system.reportConfig({ type: 'config-rejected', source: 'rollback', problems: problemsOf(err).map(formatProblem) });
        throw err;
      });
      const applied = this.#record('rollback', changes, target.tree, target.logLevel, target.alerts, target.version);
      this.#system.reportConfig({ type: 'config-applied', version: applied.version, source: 'rollback', changes: applied.changes.map((c) => ({ ...c })), restored: target.version });
      this.#system.log.info({ component: 'config', version: applied.version, restored: target.version, changes: describe(changes) }, 'config rolled back');
      return { ...applied };
    });
  }

  /** Stop watching; resolves once a reload under way has finished. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = null;
    await this.#queue.catch(() => undefined);
  }

  #fileChanged(): void {
    if (this.#fileReloadQueued) return; // one queued read covers every change before it starts
    this.#fileReloadQueued = true;
    void this.#serially(() => {
      this.#fileReloadQueued = false;
      return this.#reload();
    });
  }

  /** One reload or rollback at a time, in the order asked. */
  #serially<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(): Promise<ReloadOutcome> {
    const log = this.#system.log;
    if (this.#system.state !== 'running') return { status: 'ignored', reason: `the system is ${this.#system.state}` };
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      // Mid-save by an editor that deletes and recreates; the next change event brings it back.
      log.warn({ component: 'config', file: this.file, err: (err as Error).message }, 'config file unreadable; keeping the running configuration');
      return { status: 'ignored', reason: `cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    if (text === this.#lastText) return { status: 'unchanged', version: this.current.version };
    // An editor that truncates before writing shows an empty file for a moment; the write that follows brings the content.
    if (text.trim() === '') return { status: 'ignored', reason: `${this.file} is empty` };
    this.#lastText = text;
    let next: RingmasterConfig;
    let changes: TreeChange[];
    try {
      next = parseConfig(text, this.file, { env: this.#options.env, flags: this.#options.flags }).config;
      changes = await this.#apply(next.tree, next.log.level, next.alerts);
    } catch (err) {
      this.#counts.rejected++;
      const problems = problemsOf(err);
      log.warn({ component: 'config', file: this.file, problems: problems.map(formatProblem) }, 'config change rejected; the running configuration is kept');
      this.#system.reportConfig({ type: 'config-rejected', source: 'file', problems: problems.map(formatProblem) });
      return { status: 'rejected', problems };
    }
    const needsRestart = START_ONLY.filter(([, get]) => !isDeepStrictEqual(get(next), get(this.#started))).map(([f]) => f);
    const v = this.#record('file', changes, next.tree, next.log.level, next.alerts);
    log.info({ component: 'config', version: v.version, changes: describe(changes) }, 'config change applied');
    this.#system.reportConfig({ type: 'config-applied', version: v.version, source: 'file', changes: v.changes.map((c) => ({ ...c })) });
    if (needsRestart.length > 0) log.warn({ component: 'config', fields: needsRestart }, 'these config fields take effect at the next start only');
    return { status: 'applied', version: v.version, changes: v.changes, needsRestart };
  }

  /**
   * The tree through applyTree (validated whole first, so an invalid one
   * changes nothing); the level on the system's own logger. Actors without
   * a `logLevel` of their own keep the level they started with. Then the
   * alert rules (checked with the file, so they apply).
   */
  async #apply(tree: TreeSpec, level: LogLevel, alerts: unknown[]): Promise<TreeChange[]> {
    const changes = await this.#system.applyTree(tree);
    if (this.#system.log.level !== level) this.#system.log.level = level;
    this.#options.alerts?.setRules(alerts);
    return changes;
  }

  #record(source: VersionSource, changes: TreeChange[], tree: TreeSpec, logLevel: LogLevel, alerts: unknown[], restored?: number): ConfigVersion {
    const v: ConfigVersion = {
      version: this.#nextVersion++,
      at: new Date().toISOString(),
      source,
      changes: changes.map((c) => ({ kind: c.kind, id: c.id })),
      tree: structuredClone(tree),
      logLevel,
      alerts: structuredClone(alerts),
      ...(restored !== undefined ? { restored } : {}),
    };
    if (source !== 'start') this.#counts.applied++;
    this.#versions.push(v);
    const limit = this.#options.historyLimit ?? DEFAULT_VERSION_HISTORY;
    if (this.#versions.length > limit) this.#versions.splice(0, this.#versions.length - limit);
    return v;
  }
}

/** A version as the HTTP API shows it: without its tree (GET /api/tree shows the running one). */
export type VersionSummary = Omit<ConfigVersion, 'tree' | 'alerts'>;

export interface ConfigRoutes {
  /** Body of `GET /api/config/versions`. */
  versions(): { current: number; applied: number; rejected: number; versions: VersionSummary[] };
  /** Body of `POST /api/config/rollback` with `{ version? }`; throws InvalidOptionError (400) for a bad or unknown version. */
  rollback(version?: unknown): Promise<{ ok: true; version: VersionSummary }>;
  /** For startHttp's `onReload` (`POST /api/config/reload`): re-read the file now; a rejected file throws ConfigError (400, every problem in the message). */
  reload(): Promise<ReloadOutcome>;
}

const summary = ({ tree: _tree, alerts: _alerts, ...rest }: ConfigVersion): VersionSummary => rest;

/** Handlers for the config routes of the HTTP server, independent of how requests are parsed. */
export function configRoutes(manager: ConfigManager): ConfigRoutes {
  return {
    versions: () => ({ current: manager.current.version, ...manager.counts(), versions: manager.versions().map(summary) }),
    rollback: async (version) => {
      if (version !== undefined && version !== null && !(Number.isInteger(version) && (version as number) >= 1)) {
        throw new InvalidOptionError('version', `must be a positive integer (a version number from GET /api/config/versions), got ${JSON.stringify(version)}`);
      }
      const applied = await manager.rollback((version ?? undefined) as number | undefined);
      return { ok: true, version: summary(applied) };
    },
    // A rejected file answers as an error, not as a 200 that says "rejected".
    reload: async () => {
      const outcome = await manager.reload();
      if (outcome.status === 'rejected') throw new ConfigError(manager.file, outcome.problems);
      return outcome;
    },
  };
}

function describe(changes: TreeChange[]): string[] {
  return changes.map((c) => `${c.kind}:${c.id}`);
}

function problemsOf(err: unknown): ConfigProblem[] {
  if (err instanceof ConfigError) return [...err.problems];
  if (err instanceof InvalidTreeError) return err.problems.map((p) => ({ path: p.path, message: p.message }));
  return [{ path: '', message: `the change could not be applied: ${(err as Error).message}` }];
}
