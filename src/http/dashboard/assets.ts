import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The page's own files sit in `static/` beside this module: the build
 * copies them next to the compiled file, so the same relative URL finds them
 * in a checkout (dist/src/http/dashboard/static/), in the published package
 * (which ships dist/src) and when running the TypeScript sources directly.
 */
const STATIC_DIR = new URL('./static/', import.meta.url);

interface Asset {
  /** Where the file is, found on first use. */
  path: () => string;
  contentType: string;
}

const own = (name: string, contentType: string): Asset => ({ path: () => fileURLToPath(new URL(name, STATIC_DIR)), contentType });
// uPlot comes from its package, wherever the package manager put it (hoisted or nested).
const uplot = (file: string, contentType: string): Asset => ({ path: () => createRequire(import.meta.url).resolve(`uplot/dist/${file}`), contentType });

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Every file the dashboard serves, by the name in its URL; nothing else is ever read from disk. */
const ASSETS: Record<string, Asset> = {
  'index.html': own('index.html', 'text/html; charset=utf-8'),
  'dashboard.js': own('dashboard.js', JS),
  'dashboard.css': own('dashboard.css', CSS),
  'favicon.svg': own('favicon.svg', 'image/svg+xml'),
  'uPlot.iife.min.js': uplot('uPlot.iife.min.js', JS),
  'uPlot.min.css': uplot('uPlot.min.css', CSS),
};

/**
 * Where the page may load things from: only this server. No inline script
 * or style, no other origin, no framing; the page draws every string from
 * the system with textContent, and this is the second line of defence.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface LoadedAsset {
  body: Buffer;
  contentType: string;
}

/** Asset files, read once each and kept (they are small and never change while the process runs). */
export class Assets {
  readonly #cache = new Map<string, Promise<LoadedAsset>>();

  has(name: string): boolean {
    return Object.hasOwn(ASSETS, name);
  }

  /** The file served as `name`; rejects if it is unknown or cannot be read (a broken install or build). */
  get(name: string): Promise<LoadedAsset> {
    let loaded = this.#cache.get(name);
    if (!loaded) {
      const asset = ASSETS[name];
      if (!asset || !Object.hasOwn(ASSETS, name)) return Promise.reject(new Error(`no dashboard asset '${name}'`));
      loaded = Promise.resolve()
        .then(() => readFile(asset.path()))
        .then((body) => ({ body, contentType: asset.contentType }));
      // A failed read is not kept: a file put back (a rebuild) is found on the next request.
      loaded.catch(() => this.#cache.delete(name));
      this.#cache.set(name, loaded);
    }
    return loaded;
  }
}
