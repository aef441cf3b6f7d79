import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Quiet time after the last change event before the file is read: editors write in several steps. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 150;
/** How often the file is stat()ed as well, for what fs.watch misses (network mounts, symlink swaps). */
export const DEFAULT_RELOAD_POLL_MS = 2000;

export interface WatchOptions {
  debounceMs?: number;
  pollMs?: number;
  /** Told when the watch itself fails (it falls back to polling and retries). */
  onError?: (err: Error) => void;
}

/**
 * Calls `onChange` (debounced) whenever `file` may have changed. It watches
 * the directory rather than the file: an editor that saves by writing a new
 * file and renaming it over the old one replaces the inode a file watch
 * would be attached to. A slow stat poll backs it up. Neither keeps the
 * process alive, and a spurious call is harmless (the reader compares text).
 */
export class FileWatcher {
  readonly #file: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #onError: (err: Error) => void;
  #watcher: FSWatcher | null = null;
  #poll: NodeJS.Timeout | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #signature = '';
  #closed = false;

  constructor(file: string, onChange: () => void, options: WatchOptions = {}) {
    this.#file = file;
    this.#onChange = onChange;
    this.#debounceMs = options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
    this.#pollMs = options.pollMs ?? DEFAULT_RELOAD_POLL_MS;
    this.#onError = options.onError ?? (() => undefined);
  }

  async start(): Promise<void> {
    this.#signature = await this.#stat();
    this.#watch();
    this.#poll = setInterval(() => void this.#check(), this.#pollMs);
    this.#poll.unref();
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#poll = this.#debounce = null;
  }

  #watch(): void {
    if (this.#closed || this.#watcher) return;
    const name = basename(this.#file);
    try {
      this.#watcher = watch(dirname(this.#file), { persistent: false }, (_event, changed) => {
        // Some platforms give no name; then any change in the directory may be ours.
        if (changed === null || changed === name) this.#schedule();
      });
      this.#watcher.on('error', (err) => this.#lost(err));
    } catch (err) {
      this.#lost(err as Error);
    }
  }

  #lost(err: Error): void {
    this.#watcher?.close();
    this.#watcher = null;
    this.#onError(err);
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.#stat().then((sig) => {
        this.#signature = sig;
        if (!this.#closed) this.#onChange();
      });
    }, this.#debounceMs);
  }

  async #check(): Promise<void> {
    this.#watch(); // re-attach after the directory was replaced or the watch failed
    const sig = await this.#stat();
    if (sig !== this.#signature && !this.#debounce) {
      this.#signature = sig;
      if (!this.#closed) this.#onChange();
    }
  }

  /** Changes when the file's content is likely to have changed; stat() follows symlinks, so a swapped link target counts. */
  async #stat(): Promise<string> {
    try {
      const s = await stat(this.#file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
