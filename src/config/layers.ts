import { joinPath, type PathSegment } from './document.js';
import type { Origin } from './sources.js';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Every leaf under `value` with its path. Objects are walked into (an empty
 * one is itself a leaf, so `http: {}` still switches HTTP on); lists only
 * inside the tree, since elsewhere a list is one value.
 */
export function leaves(value: unknown, prefix: PathSegment[] = []): Array<[PathSegment[], unknown]> {
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return prefix.length > 0 ? [[prefix, value]] : [];
    return entries.flatMap(([k, v]) => leaves(v, [...prefix, k]));
  }
  if (Array.isArray(value) && prefix[0] === 'tree' && value.length > 0) return value.flatMap((v, i) => leaves(v, [...prefix, i]));
  return [[prefix, value]];
}

/**
 * The merged configuration being built one source at a time: a later put
 * overrides an earlier one, and each leaf remembers which source set it.
 */
export class Layers {
  readonly value: Record<string, unknown> = {};
  readonly #origins = new Map<string, Origin>();

  get origins(): ReadonlyMap<string, Origin> {
    return this.#origins;
  }

  put(path: readonly PathSegment[], value: unknown, origin: Origin): void {
    let target = this.value;
    for (let d = 0; d < path.length - 1; d++) {
      const seg = String(path[d]);
      const next = target[seg];
      if (isPlainObject(next)) target = next;
      else if (next === undefined || this.#origins.get(joinPath(path.slice(0, d + 1)))?.kind === 'default') {
        // A mapping written over a default that is one value (`flightRecorder: { messages, payloadBytes }` over 32) replaces it.
        target = target[seg] = {};
        this.#origins.delete(joinPath(path.slice(0, d + 1)));
      } else return; // a bad value (e.g. `log: loud`) stays, so the schema reports it where it was written
    }
    const key = String(path[path.length - 1]);
    // An empty object adds a section without wiping what defaults put there.
    if (isPlainObject(value) && Object.keys(value).length === 0 && isPlainObject(target[key])) {
      if (!this.#origins.has(joinPath(path))) this.#origins.set(joinPath(path), origin);
      return;
    }
    target[key] = value;
    this.#forgetUnder(joinPath(path));
    this.#origins.set(joinPath(path), origin);
  }

  /** Record where a leaf inside an already-put value came from. */
  note(path: readonly PathSegment[], origin: Origin): void {
    this.#origins.set(joinPath(path), origin);
  }

  #forgetUnder(prefix: string): void {
    for (const k of [...this.#origins.keys()]) if (k.startsWith(`${prefix}.`) || k.startsWith(`${prefix}[`)) this.#origins.delete(k);
  }
}
