/** The signals that stop `ringmaster start` gracefully: Ctrl-C, a service manager's stop, a closed terminal. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * A repeat of the first signal within this time is the same request, not a
 * second one, ms. npm (under `npx`, `npm start`) passes the terminal's
 * Ctrl-C on to its child, which the terminal has already signalled too, so
 * one Ctrl-C can arrive twice within a few ms; a person pressing it again
 * to force the exit takes longer.
 */
export const REPEAT_WINDOW_MS = 500;

/** How often `start` checks, when npm started it, that the process that started it is still there, ms. */
export const PARENT_CHECK_MS = 1000;

/** Where signals come from (process; a plain EventEmitter in tests). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface StopRequests {
  /** The first request (a signal name, or why the process must stop), or null while none came. */
  readonly first: string | null;
  /** Resolves with the first request. */
  readonly requested: Promise<string>;
  /** Stop listening. */
  dispose(): void;
}

/**
 * Listens for the stop signals from the moment it is made, so a signal during
 * start-up is a request to stop too (without a listener it would kill the
 * process before the system could stop its workers). The first signal, or
 * `request(reason)`, resolves `requested`; a later different signal, or the
 * same one after REPEAT_WINDOW_MS, calls `force`.
 */
export function stopRequests(force: (signal: NodeJS.Signals) => void, source: SignalSource = process, now: () => number = () => performance.now()): StopRequests & { request(reason: string): void } {
  let first: { what: string; at: number } | null = null;
  let resolve!: (what: string) => void;
  const requested = new Promise<string>((r) => (resolve = r));
  const request = (what: string): void => {
    if (first !== null) return;
    first = { what, at: now() };
    resolve(what);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first === null) return request(signal);
    if (first.what === signal && now() - first.at < REPEAT_WINDOW_MS) return;
    force(signal);
  };
  for (const s of STOP_SIGNALS) source.on(s, onSignal);
  return {
    get first() {
      return first?.what ?? null;
    },
    requested,
    request,
    dispose: () => {
      for (const s of STOP_SIGNALS) source.off(s, onSignal);
    },
  };
}

/**
 * Under npm (`npx ringmaster start`, an npm script) the process is a child
 * of a shell that npm started, and npm passes SIGINT and SIGTERM to that
 * shell, not always to this process: a shell that does not hand its place
 * to the command (dash, Debian's sh) dies of the signal and leaves this
 * process running with nobody to stop it. So when npm started this process,
 * a parent that goes away is a request to stop. Elsewhere it is not: a
 * process started with `nohup … &` or by a daemon's double fork is meant to
 * outlive its parent. Returns the check's cancel.
 */
export function stopWhenOrphaned(env: NodeJS.ProcessEnv, onGone: (reason: string) => void): () => void {
  const parent = process.ppid;
  // Parent 1 (or 0) is init or nothing: there is no launcher to lose.
  if (env.npm_lifecycle_event === undefined || parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone(`its parent process ${parent} (started by npm) is gone`);
  }, PARENT_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
