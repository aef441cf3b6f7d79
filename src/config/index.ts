// Config files: load and validate (with provenance), and keep a running system in step with one.
export { loadConfig, parseConfig, ConfigError, formatProblem, type LoadOptions, type LoadedConfig, type ConfigProblem } from './load.js';
export {
  configDefaults,
  toSystemOptions,
  LOG_LEVELS,
  DEFAULT_CONFIG_HTTP_HOST,
  DEFAULT_CONFIG_HTTP_PORT,
  DEFAULT_CONFIG_LOG_LEVEL,
  type LogLevel,
  type RingmasterConfig,
} from './schema.js';
export { OVERRIDES, describeOrigin, type ConfigFlags, type Origin } from './sources.js';
export {
  ConfigManager,
  configRoutes,
  DEFAULT_VERSION_HISTORY,
  type ConfigManagerOptions,
  type ConfigRoutes,
  type ConfigVersion,
  type ReloadOutcome,
  type VersionSummary,
} from './manager.js';
export { FileWatcher, DEFAULT_RELOAD_DEBOUNCE_MS, DEFAULT_RELOAD_POLL_MS } from './watch.js';
export { describeConfig, renderConfig, REDACTED, type ConfigEntry } from './describe.js';
