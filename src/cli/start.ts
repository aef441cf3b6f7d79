import type { ConfigFlags } from '../config/index.js';
import type { HttpServer } from '../http/server.js';
import { fromConfig } from '../launch/from-config.js';
import type { ActorSystem } from '../system/system.js';
import { help, type Io } from './config-commands.js';
import { stopRequests, stopWhenOrphaned, type StopRequests } from './signals.js';
import { CONFIG_OPTIONS, configFlags, EXIT_FAILURE, EXIT_FORCED, EXIT_OK, parse, requireFile } from './usage.js';

/** Paths worth knowing on the HTTP listener, printed in the start-up summary. */
const HTTP_PATHS = ['/health', '/ready', '/metrics', '/api/tree'];

/**
 * `ringmaster start`: resolves with the exit code once the system has
 * stopped — 0 after a stop request (SIGINT, SIGTERM, SIGHUP; under npm also
 * the loss of the parent process), 1 if the stop failed or the system
 * stopped by itself. A second signal during the graceful stop exits at once
 * (130).
 */
export async function startCommand(args: string[], io: Io, exit: (code: number) => never = process.exit, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parse('start', args, CONFIG_OPTIONS, 1);
  if (values.help) return help('start', io);
  const flags = configFlags(values);
  const file = requireFile('start', positionals);
  // Listening from here on: a signal while the system starts would otherwise
  // kill the process outright, without stopping what has started.
  const requests = stopRequests((signal) => {
    io.err(`ringmaster: ${signal} again: exiting without waiting for the graceful stop`);
    exit(EXIT_FORCED);
  });
  const announce = (what: string): void => io.err(`ringmaster: ${what}: stopping gracefully (send a signal again to force)`);
  void requests.requested.then(announce);
  const orphaned = stopWhenOrphaned(env, requests.request);
  try {
    return await run(file, flags, io, requests);
  } finally {
    orphaned();
    requests.dispose();
  }
}

async function run(file: string, flags: ConfigFlags, io: Io, requests: StopRequests): Promise<number> {
  const system = await fromConfig(file, { flags, loadTracingSetup: mainThreadTracing });
  const { http } = system;
  const config = system.config.started;
  if (requests.first === null) summarize(system, http, config.http?.token !== undefined, config.file, io);
  const stopped = system.whenStopped().then((reason) => ({ by: 'itself' as const, reason }));
  const asked = requests.requested.then((reason) => ({ by: 'request' as const, reason }));
  const end = await Promise.race([asked, stopped]);
  if (end.by === 'itself') {
    // Its stop closed the watcher and the listener too.
    io.err(`ringmaster: the system stopped by itself: ${end.reason}`);
    return EXIT_FAILURE;
  }
  // The watcher first (no reload half-way through the stop), the actors next
  // (each drains, in reverse start order; /ready says 503 meanwhile), HTTP last: system.stop() does all three.
  const ok = await closeAll([() => system.stop(end.reason.startsWith('SIG') ? `signal ${end.reason}` : end.reason)], io);
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/**
 * `ringmaster start` runs no program of the user's that could register an SDK
 * in its own thread: it imports the file's `tracing.setup` there too (one file
 * serves every thread), so the spans this thread makes (a pool actor's) and
 * its context manager are there. OpenTelemetry loads only then. It does so
 * while checking the file, so a setup that throws is a problem of the file
 * (`tracing.setup`, with its line and the resolved path), and nothing starts.
 */
async function mainThreadTracing(setupUrl: string): Promise<void> {
  const { ensureContextManager } = await import('../trace/tracing.js');
  await import(setupUrl);
  ensureContextManager();
}

/** Run every step even when one fails, each failure reported; true when none failed. */
async function closeAll(steps: Array<() => Promise<unknown> | undefined>, io: Io): Promise<boolean> {
  let ok = true;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      ok = false;
      io.err(`ringmaster: the graceful stop failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  return ok;
}

/** The start-up summary on stderr. It comes once the system is up and the stop signals are heard. */
function summarize(system: ActorSystem, http: HttpServer | null, token: boolean, file: string, io: Io): void {
  const actors = system.status().filter((s) => s.kind === 'actor');
  io.err(`ringmaster: system '${system.name}' running: ${actors.length} actor${actors.length === 1 ? '' : 's'} started (${actors.map((a) => a.id).join(', ')})`);
  const actions = token ? 'restart/stop/reload need the bearer token' : 'actions off: no token';
  io.err(http ? `ringmaster: listening on ${http.url} (${HTTP_PATHS.join(' ')}; ${actions})` : 'ringmaster: no HTTP listener (add an http section or --port to serve /health and /metrics)');
  if (http) io.err(`ringmaster: dashboard at ${http.url}/`);
  io.err(`ringmaster: watching ${file} for changes`);
  io.err(`ringmaster: Ctrl-C or 'kill -INT ${process.pid}' stops it gracefully (also SIGTERM, SIGHUP)`);
}
