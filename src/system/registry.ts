import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CellFactory, CellServices, ChildCell } from '../cell/contract.js';
import type { Logger } from 'pino';
import { InvalidOptionError, InvalidTreeError, NoSuchActorError, ReloadFailedError } from '../errors.js';
import { checkModule } from '../cell/standby.js';
import { moduleError } from '../cell/incarnation.js';
import type { EventInput } from '../events.js';
import { diffTrees, type TreeChange } from '../supervisor/diff.js';
import { Supervisor } from '../supervisor/runtime.js';
import type { ResolvedChildSpec, ResolvedNode, ResolvedSupervisorSpec } from '../supervisor/spec.js';
import type { Topics } from './topics.js';

/**
 * The supervision tree as it runs: every supervisor and actor cell by id,
 * each one's parent, how nodes are built from resolved specs, and how one
 * change of a hot reload is applied.
 */
export class TreeRegistry {
  readonly cells = new Map<string, ChildCell>();
  readonly supervisors = new Map<string, Supervisor>();
  readonly #parents = new Map<string, string | null>();
  readonly #factory: CellFactory;
  readonly #topics: Topics;
  readonly #baseDir: string;
  readonly #emit: (e: EventInput) => void;
  #svc: CellServices | null = null;
  root: Supervisor | null = null;
  /** Throws when a new child's id may not be used here (a cluster node: another node hosts it); set once the system has joined its cluster. */
  guard: ((id: string) => void) | null = null;

  constructor(opts: { factory: CellFactory; topics: Topics; baseDir: string; emit: (e: EventInput) => void }) {
    this.#factory = opts.factory;
    this.#topics = opts.topics;
    this.#baseDir = opts.baseDir;
    this.#emit = opts.emit;
  }

  /** The services every cell is built with; set once, before the first build. */
  set services(svc: CellServices) {
    this.#svc = svc;
  }

  parentIdOf(id: string): string | null {
    return this.#parents.get(id) ?? null;
  }

  /** Every id in use (actors and supervisors). */
  ids(): Set<string> {
    return new Set([...this.cells.keys(), ...this.supervisors.keys()]);
  }

  /** Build a supervisor and everything under it (not started). */
  build(spec: ResolvedNode, parent: string | null): Supervisor {
    if (spec.kind !== 'supervisor') throw new InvalidOptionError('tree', 'root must be a supervisor');
    const sup = new Supervisor(spec, (e) => this.#emit({ ...e }));
    // A removed child, or an ended dynamic one, is deleted: its id is free again. A
    // temporary child of the tree file that ended stays known (asks to it say it
    // stopped), so a reload does not see it as new and start it again.
    sup.onChildRemoved = (c, why) => {
      if (why === 'removed' || sup.spec.strategy === 'simple_one_for_one') this.forget(c.id);
    };
    this.supervisors.set(spec.id, sup);
    this.#parents.set(spec.id, parent);
    for (const child of spec.children) sup.adopt(child.kind === 'supervisor' ? this.build(child, spec.id) : this.cell(child, spec.id));
    return sup;
  }

  /** Build the cell of child `spec` under supervisor `parent` (not started), with its tree subscriptions. */
  cell(spec: ResolvedChildSpec, parent: string): ChildCell {
    this.guard?.(spec.id);
    const cell = this.#factory(spec, parent, this.moduleUrl(spec.module), this.#svc!);
    this.cells.set(spec.id, cell);
    this.#parents.set(spec.id, parent);
    for (const p of spec.subscribe) this.#topics.table.subscribe(spec.id, p, `tree child '${spec.id}' subscribe`);
    return cell;
  }

  /** Drop `id` (and everything under it) from the registry: its id is free again. */
  forget(id: string): void {
    const sup = this.supervisors.get(id);
    if (sup) for (const c of sup.children) this.forget(c.id);
    this.supervisors.delete(id);
    // A cell forgotten is stopped and its mail dead-lettered already: its inbox
    // and its rings into other inboxes go too, so memory follows live actors.
    if (this.cells.delete(id)) this.#svc!.wiring.switchboard.unregister(id);
    this.#topics.table.removeSubscriber(id);
    this.#parents.delete(id);
  }

  /** The tree as it runs now, from `sup` down: defaults filled in, dynamic children and applied changes included. */
  snapshot(sup: Supervisor = this.root!): ResolvedSupervisorSpec {
    // A copy of each child's spec: a snapshot must not change when a later reload configures the running cell.
    return { ...sup.spec, children: sup.children.map((c) => (c instanceof Supervisor ? this.snapshot(c) : { ...this.cells.get(c.id)!.record.spec })) };
  }

  /** The file: URL of a child's module: absolute paths and file: URLs as they are, relative ones from the base directory. */
  moduleUrl(module: string): string {
    return module.startsWith('file:') ? module : pathToFileURL(isAbsolute(module) ? module : resolve(this.#baseDir, module)).href;
  }

  /** The supervisor of `id`; the root has none to act through. */
  parentOf(id: string): Supervisor {
    if (id === this.root?.id) throw new InvalidOptionError(`actor '${id}'`, 'is the root supervisor: stop the system instead');
    const parent = this.#parents.get(id);
    const sup = parent ? this.supervisors.get(parent) : undefined;
    if (!sup) throw new NoSuchActorError(id, 'control');
    return sup;
  }

  /** Turn the running tree into `next` (see ActorSystem.applyTree): checked as a whole, applied change by change, rolled back on a failure. */
  async applyTree(next: ResolvedSupervisorSpec, askTimeoutMs: number, log: Logger): Promise<TreeChange[]> {
    const current = this.snapshot();
    if (next.id !== current.id) {
      throw new InvalidTreeError([{ path: 'tree.id', message: `the root cannot be renamed while running ('${current.id}' → '${next.id}')` }]);
    }
    const changes = diffTrees(current, next);
    await this.checkModules(changes);
    try {
      for (const ch of changes) await this.apply(ch, askTimeoutMs);
    } catch (err) {
      throw await this.#rollBack(current, err as Error, askTimeoutMs, log);
    }
    return changes;
  }

  /** A change failed part-way: turn the running tree back into `before`, and say what could not be undone. */
  async #rollBack(before: ResolvedSupervisorSpec, failure: Error, askTimeoutMs: number, log: Logger): Promise<ReloadFailedError> {
    const undo = diffTrees(this.snapshot(), before);
    const left: Error[] = [];
    for (const ch of undo) await this.apply(ch, askTimeoutMs).catch((e: Error) => left.push(e));
    const how = left.length === 0 ? 'the changes applied before it were rolled back' : `rolling back left ${left.length} change(s) undone: ${left.map((e) => e.message).join('; ')}`;
    log.error({ err: failure, undone: undo.length, left: left.length }, 'tree change failed; rolled back');
    return new ReloadFailedError(`tree change failed: ${failure.message}; ${how}`, left, { cause: failure });
  }

  /**
   * Load, once each and side by side, the module of every actor that `changes`
   * would start (added, or restarted with a changed spec), in throw-away
   * workers: a module that cannot load rejects the whole reload with its
   * ModuleLoadError before anything changes.
   */
  async checkModules(changes: TreeChange[]): Promise<void> {
    const specs: ResolvedChildSpec[] = [];
    const collect = (n: ResolvedNode): void => {
      if (n.kind === 'child') specs.push(n);
      else n.children.forEach(collect);
    };
    for (const ch of changes) {
      if (ch.kind === 'add') collect(ch.node);
      else if (ch.kind === 'restart') specs.push(ch.spec);
    }
    const svc = this.#svc!;
    const checks = specs
      .filter((s) => !s.pool)
      .map((s) => checkModule(svc.hostUrl, s.id, this.moduleUrl(s.module), s.resourceLimits ? { resourceLimits: s.resourceLimits } : {}).catch((e: Error) => {
        throw moduleError(s.module, this.#baseDir, e);
      }));
    const results = await Promise.allSettled(checks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Apply one change of a hot reload. */
  async apply(ch: TreeChange, askTimeoutMs: number): Promise<void> {
    switch (ch.kind) {
      case 'remove':
        await this.supervisors.get(ch.parent)!.removeChild(ch.id);
        this.forget(ch.id);
        return;
      case 'configure':
        await this.cells.get(ch.id)!.configure(ch.config, askTimeoutMs);
        return;
      case 'log-level':
        this.cells.get(ch.id)!.setLogLevel(ch.level);
        return;
      case 'restart': {
        const cell = this.cells.get(ch.id)!;
        const was = new Set(cell.record.spec.subscribe);
        const now = new Set(ch.spec.subscribe);
        for (const p of was) if (!now.has(p)) this.#topics.table.unsubscribe(ch.id, p);
        for (const p of now) if (!was.has(p)) this.#topics.table.subscribe(ch.id, p);
        cell.replaceSpec(ch.spec, this.moduleUrl(ch.spec.module));
        await this.parentOf(ch.id).restartChild(ch.id);
        return;
      }
      case 'supervisor':
        this.supervisors.get(ch.id)!.updateSpec(ch.spec);
        return;
      case 'add': {
        const child = ch.node.kind === 'supervisor' ? this.build(ch.node, ch.parent) : this.cell(ch.node, ch.parent);
        await this.supervisors.get(ch.parent)!.spawn(child);
        return;
      }
    }
  }
}
