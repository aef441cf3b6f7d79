import { ConfigManager, loadConfig, toSystemOptions, configRoutes } from '../config/index.js';
import { startHttp, type HttpServer } from '../http/server.js';
import { ActorSystem } from '../system/system.js';
import { help, type Io } from './config-commands.js';
import { CONFIG_OPTIONS, configFlags, EXIT_FAILURE, EXIT_FORCED, EXIT_OK, parse, requireFile } from './usage.js';

/** Paths worth knowing on the HTTP listener, printed in the start-up summary. */
const HTTP_PATHS = ['/health', '/ready', '/metrics', '/api/tree'];

/**
 * `ringmaster start`: resolves with the exit code once the system has
 * stopped — 0 after a signal, 1 if it stopped by itself. A second signal
 * during the graceful stop exits at once (130).
 */
export async function startCommand(args: string[], io: Io, exit: (code: number) => never = process.exit): Promise<number> {
  const { values, positionals } = parse('start', args, CONFIG_OPTIONS, 1);
  if (values.help) return help('start', io);
  const flags = configFlags(values);
  const loaded = await loadConfig(requireFile('start', positionals), { flags });
  const { config } = loaded;

  const system = await ActorSystem.start(toSystemOptions(config));
  const manager = new ConfigManager(system, loaded, { flags });
  let http: HttpServer | null = null;
  try {
    if (config.http) {
      const routes = configRoutes(manager);
      http = await startHttp(system, {
        host: config.http.host,
        port: config.http.port,
        ...(config.http.token !== undefined ? { token: config.http.token } : {}),
        ...(config.http.allowedHosts !== undefined ? { allowedHosts: config.http.allowedHosts } : {}),
        reloads: () => manager.counts(),
        onReload: routes.reload,
        config: routes,
      });
    }
    await manager.watch();
  } catch (err) {
    await manager.close();
    await system.stop(`start failed: ${(err as Error).message}`);
    throw err;
  }


  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (reason: string): Promise<void> => {
      await manager.close();
      await system.stop(reason);
      await http?.close();
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        io.err(`ringmaster: ${signal} again: exiting without waiting for the graceful stop`);
        exit(EXIT_FORCED);
      }
      stopping = true;
      io.err(`ringmaster: ${signal}: stopping gracefully (send it again to force)`);
      shutdown(`signal ${signal}`).then(
        () => resolve(EXIT_OK),
        (err: unknown) => {
          io.err(`ringmaster: the graceful stop failed: ${(err as Error).message}`);
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // The summary comes only now: whoever reads it may signal at once, and a
    // signal before the handlers exist would kill the process outright.
    const actors = system.status().filter((s) => s.kind === 'actor');
    io.err(`ringmaster: system '${system.name}' running: ${actors.length} actor${actors.length === 1 ? '' : 's'} started (${actors.map((a) => a.id).join(', ')})`);
    const actions = config.http?.token ? 'restart/stop/reload need the bearer token' : 'actions off: no token';
    io.err(http ? `ringmaster: listening on ${http.url} (${HTTP_PATHS.join(' ')}; ${actions})` : 'ringmaster: no HTTP listener (add an http section or --port to serve /health and /metrics)');
    if (http) io.err(`ringmaster: dashboard at ${http.url}/`);
    io.err(`ringmaster: watching ${config.file} for changes`);
    io.err(`ringmaster: Ctrl-C or 'kill -INT ${process.pid}' stops it gracefully`);
    void system.whenStopped().then(async (reason) => {
      if (stopping) return;
      stopping = true;
      io.err(`ringmaster: the system stopped by itself: ${reason}`);
      await manager.close();
      await http?.close();
      resolve(EXIT_FAILURE);
    });
  });
}
