import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isPlainObject } from './layers.js';

/** Loads one actor's module as a start would (`id` names the child); resolves when it loads, rejects with why it cannot. */
export type ModuleLoader = (moduleUrl: string, id: string) => Promise<void>;

/** One module a tree names, where it names it, and the file it resolves to. */
export interface ModuleFile {
  /** `tree.children[0].module`, … */
  path: string;
  /** The child's id (`<supervisor>/template` for a simple_one_for_one template). */
  id: string;
  file: string;
}

/** How many throw-away workers load modules at once. */
const LOAD_AT_ONCE = 4;

/** Every actor module a tree as written names (pool handlers aside), resolved from `baseDir`; file: URLs that are not local are left out. */
export function moduleFiles(node: unknown, baseDir: string, path = 'tree'): ModuleFile[] {
  if (!isPlainObject(node)) return [];
  const out: ModuleFile[] = [];
  const add = (module: unknown, at: string, id: string): void => {
    if (typeof module !== 'string' || module === '') return;
    try {
      out.push({ path: at, id, file: module.startsWith('file:') ? fileURLToPath(module) : isAbsolute(module) ? module : resolve(baseDir, module) });
    } catch {
      // not a local file URL: the system reports it when it tries to load it
    }
  };
  const id = typeof node.id === 'string' ? node.id : '?';
  add(node.module, `${path}.module`, id);
  if (isPlainObject(node.template)) add(node.template.module, `${path}.template.module`, `${id}/template`);
  if (Array.isArray(node.children)) node.children.forEach((c, i) => out.push(...moduleFiles(c, baseDir, `${path}.children[${i}]`)));
  return out;
}

/**
 * Load every module file of `tree` that exists, once each however many
 * children name it, `LOAD_AT_ONCE` at a time, and say which cannot load and
 * why (at every path that names it). Paths in `skip` (already reported) are
 * not tried.
 */
export async function unloadableModules(tree: unknown, baseDir: string, load: ModuleLoader, skip: ReadonlySet<string>): Promise<Array<{ path: string; message: string }>> {
  const byFile = new Map<string, ModuleFile[]>();
  for (const m of moduleFiles(tree, baseDir)) {
    if (skip.has(m.path) || !existsSync(m.file)) continue;
    const named = byFile.get(m.file);
    if (named) named.push(m);
    else byFile.set(m.file, [m]);
  }
  const todo = [...byFile.values()];
  const out: Array<{ path: string; message: string }> = [];
  const next = async (): Promise<void> => {
    for (let ms = todo.shift(); ms; ms = todo.shift()) {
      const named = ms;
      await load(pathToFileURL(named[0]!.file).href, named[0]!.id).catch((err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        for (const m of named) out.push({ path: m.path, message: `cannot load: ${why}` });
      });
    }
  };
  await Promise.all(Array.from({ length: LOAD_AT_ONCE }, next));
  return out;
}

/** The file's `tracing.setup` (resolved from `baseDir`) imported with `load`, when it exists and was not reported already: why it cannot load, naming the resolved path. */
export async function unloadableSetup(tracing: unknown, baseDir: string, load: (moduleUrl: string) => Promise<void>, skip: ReadonlySet<string>): Promise<Array<{ path: string; message: string }>> {
  if (!isPlainObject(tracing) || typeof tracing.setup !== 'string' || tracing.setup === '' || skip.has('tracing.setup')) return [];
  const file = resolve(baseDir, tracing.setup);
  if (!existsSync(file)) return [];
  try {
    await load(pathToFileURL(file).href);
    return [];
  } catch (err) {
    return [{ path: 'tracing.setup', message: `cannot load ${file}: ${err instanceof Error ? err.message : String(err)}` }];
  }
}

/** The ids of a tree's actors as written (supervisors aside), and whether a `simple_one_for_one` supervisor may add more at run time. */
export function treeActorIds(node: unknown, out = { ids: new Set<string>(), dynamic: false }): { ids: Set<string>; dynamic: boolean } {
  if (!isPlainObject(node)) return out;
  if (node.strategy === 'simple_one_for_one') out.dynamic = true;
  if (Array.isArray(node.children)) node.children.forEach((c) => treeActorIds(c, out));
  else if (typeof node.id === 'string' && node.strategy === undefined) out.ids.add(node.id);
  return out;
}
