import { AlertManager } from '../alerts/manager.js';
import { ConfigManager, configRoutes, loadConfig, toSystemOptions, type ConfigFlags, type RingmasterConfig } from '../config/index.js';
import { startHttp, type HttpServer } from '../http/server.js';
import { ActorSystem } from '../system/system.js';

/** What `ActorSystem.fromConfig` may change from the file. */
export interface FromConfigOptions {
  /** The same overrides as `ringmaster start`'s flags (`name`, `host`, `port`, `token`, `allowedHosts`, `logLevel`, `pretty`); they win over the file and the environment. */
  flags?: ConfigFlags;
  /** The environment `RINGMASTER_*` overrides are read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Watch the file and apply its changes while running (hot reload). Default true. */
  watch?: boolean;
  /** Called with the checked configuration before the system starts. */
  beforeStart?: (config: RingmasterConfig) => unknown;
  /** Import the file's `tracing.setup` with this while checking the file (`ringmaster start` imports it into its own thread): a setup that throws is a ConfigError at `tracing.setup`. */
  loadTracingSetup?: (moduleUrl: string) => Promise<void>;
}

/** A system started from a config file, with what the file set up around it. */
export type ConfiguredSystem = ActorSystem & {
  /** The HTTP listener of the file's `http` section (health, metrics, API, dashboard), or null without one. */
  readonly http: HttpServer | null;
  /** The file's layers, reloads and version history (what `/api/config` serves). */
  readonly config: ConfigManager;
  /** The file's `alerts:` rules at work (what `/api/alerts` serves). */
  readonly alerts: AlertManager;
};

/**
 * `ActorSystem.fromConfig(file, options?)`: what `ringmaster start` does, as
 * a call. Load and check the file (YAML or JSON; relative `module` paths
 * resolve from the file's folder), start the system, serve its `http`
 * section, and watch the file for hot reload. `system.stop()` stops all of
 * it: the watcher before the actors stop, the listener after.
 */
export async function fromConfig(file: string, options: FromConfigOptions = {}): Promise<ConfiguredSystem> {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const loaded = await loadConfig(file, { flags, env, ...(options.loadTracingSetup ? { loadTracingSetup: options.loadTracingSetup } : {}) });
  const { config } = loaded;
  await options.beforeStart?.(config);
  const system = await ActorSystem.start(toSystemOptions(config));
  // Always attached (with no rules it only waits): rules added to the file later take effect on reload.
  const alerts = AlertManager.attach(system, { rules: config.alerts, intervalMs: config.alertIntervalMs });
  const manager = new ConfigManager(system, loaded, { flags, env, alerts });
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
        alerts,
      });
    }
    if (options.watch !== false) await manager.watch();
  } catch (err) {
    await manager.close();
    await alerts.close();
    await http?.close();
    await system.stop(`start failed: ${(err as Error).message}`);
    throw err;
  }
  // No reload half-way through the stop; /ready says 503 until the actors are down, then the listener closes.
  system.onShutdown('before-actors', () => manager.close());
  const listener = http;
  if (listener) system.onShutdown('after-actors', () => listener.close());
  return Object.defineProperties(system, {
    http: { value: http, enumerable: true },
    config: { value: manager, enumerable: true },
    alerts: { value: alerts, enumerable: true },
  }) as ConfiguredSystem;
}

declare module '../system/system.js' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace ActorSystem {
    /**
     * Start a system from a config file, as `ringmaster start` does: the
     * tree, its HTTP listener and hot reload. See `fromConfig` in
     * src/launch/from-config.ts; `system.stop()` stops all of it.
     */
    function fromConfig(file: string, options?: FromConfigOptions): Promise<ConfiguredSystem>;
  }
}

// The system layer cannot know about config files (config is built on it):
// the static is added here, one layer up, where both are in reach.
(ActorSystem as { fromConfig?: typeof fromConfig }).fromConfig = fromConfig;
