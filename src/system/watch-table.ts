/** One watch: `watcher` is told when `target`'s incarnation ends; `seq` is the watcher's number for it. */
export interface Watch {
  watcher: string;
  target: string;
  seq: number;
  /** The watcher's node, when it is another node's. */
  watcherNode?: string;
}

/** A watch as `system.watches()` lists it: `node` is the other node involved (the target's, or the watcher's), if any. */
export interface WatchInfo {
  watcher: string;
  target: string;
  node?: string;
}

/**
 * Every watch this node holds, by target and by watcher (pure: no system
 * here). A watch is one-shot: it leaves the table when it fires (`ended`,
 * `nodeDown`), when its watcher drops it or goes away (`remove`,
 * `dropWatcher`), so the table holds only watches that can still fire.
 * A target of another node, and a watcher of another node, carry that node.
 */
export class WatchTable {
  readonly #byTarget = new Map<string, Map<string, number>>();
  readonly #byWatcher = new Map<string, Set<string>>();
  /** A target hosted by another node → that node (while it has watchers here). */
  readonly #targetNode = new Map<string, string>();
  /** A watcher of another node → its node (while it has watches here). */
  readonly #watcherNode = new Map<string, string>();
  #size = 0;

  /** Add (or renumber) `watcher`'s watch of `target`. */
  add(watcher: string, target: string, seq: number, where: { targetNode?: string | undefined; watcherNode?: string | undefined } = {}): void {
    let watchers = this.#byTarget.get(target);
    if (!watchers) this.#byTarget.set(target, (watchers = new Map()));
    if (!watchers.has(watcher)) this.#size++;
    watchers.set(watcher, seq);
    let targets = this.#byWatcher.get(watcher);
    if (!targets) this.#byWatcher.set(watcher, (targets = new Set()));
    targets.add(target);
    if (where.targetNode !== undefined) this.#targetNode.set(target, where.targetNode);
    if (where.watcherNode !== undefined) this.#watcherNode.set(watcher, where.watcherNode);
  }

  /** The number of `watcher`'s watch of `target`, if it has one. */
  seqOf(watcher: string, target: string): number | undefined {
    return this.#byTarget.get(target)?.get(watcher);
  }

  /** The node hosting `target` when it is another node's. */
  targetNode(target: string): string | undefined {
    return this.#targetNode.get(target);
  }

  /** The node of `watcher` when it is another node's. */
  watcherNode(watcher: string): string | undefined {
    return this.#watcherNode.get(watcher);
  }

  /** Drop one watch; its number, or undefined when there was none. */
  remove(watcher: string, target: string): number | undefined {
    const seq = this.#byTarget.get(target)?.get(watcher);
    if (seq === undefined) return undefined;
    this.#unlink(watcher, target);
    return seq;
  }

  /** `target`'s incarnation ended: every watch of it, taken out of the table (with the watcher's node, to tell it there). */
  ended(target: string): Watch[] {
    const watchers = this.#byTarget.get(target);
    if (!watchers) return [];
    const out = [...watchers].map(([watcher, seq]): Watch => {
      const watcherNode = this.#watcherNode.get(watcher);
      return watcherNode === undefined ? { watcher, target, seq } : { watcher, target, seq, watcherNode };
    });
    for (const w of out) this.#unlink(w.watcher, target);
    return out;
  }

  /** `watcher` is gone: its watches, taken out (with the node of a target of another node, to tell it). */
  dropWatcher(watcher: string): Array<Watch & { targetNode?: string }> {
    const targets = this.#byWatcher.get(watcher);
    if (!targets) return [];
    const out = [...targets].map((target) => {
      const targetNode = this.#targetNode.get(target);
      return { watcher, target, seq: this.#byTarget.get(target)!.get(watcher)!, ...(targetNode === undefined ? {} : { targetNode }) };
    });
    for (const w of out) this.#unlink(watcher, w.target);
    return out;
  }

  /**
   * Node `node` is down: the watches of its actors (`fired`: each to be told
   * `node-down`) and the watches its own actors held here (`dropped`) are
   * taken out.
   */
  nodeDown(node: string): { fired: Watch[]; dropped: Watch[] } {
    const fired: Watch[] = [];
    const dropped: Watch[] = [];
    for (const [target, n] of [...this.#targetNode]) if (n === node) fired.push(...this.ended(target));
    for (const [watcher, n] of [...this.#watcherNode]) if (n === node) dropped.push(...this.dropWatcher(watcher));
    return { fired, dropped };
  }

  /** How many watches the table holds. */
  get size(): number {
    return this.#size;
  }

  list(): WatchInfo[] {
    const out: WatchInfo[] = [];
    for (const [target, watchers] of this.#byTarget) {
      for (const watcher of watchers.keys()) {
        const node = this.#targetNode.get(target) ?? this.#watcherNode.get(watcher);
        out.push(node === undefined ? { watcher, target } : { watcher, target, node });
      }
    }
    return out;
  }

  #unlink(watcher: string, target: string): void {
    const watchers = this.#byTarget.get(target)!;
    watchers.delete(watcher);
    this.#size--;
    if (watchers.size === 0) {
      this.#byTarget.delete(target);
      this.#targetNode.delete(target);
    }
    const targets = this.#byWatcher.get(watcher)!;
    targets.delete(target);
    if (targets.size === 0) {
      this.#byWatcher.delete(watcher);
      this.#watcherNode.delete(watcher);
    }
  }
}
