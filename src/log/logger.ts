import { createRequire } from 'node:module';
import type { Logger } from 'pino';

const require = createRequire(import.meta.url);
/** pino's levels (ringmaster defines no custom ones). */
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export interface LogOptions {
  level: string;
  /** Human-readable lines instead of JSON (meant for a terminal). */
  pretty: boolean;
  /** Fields on every line (system, actor, incarnation). */
  base: Record<string, unknown>;
  /** Fields computed for each line (a traced actor's trace_id and span_id). */
  mixin?: (() => Record<string, unknown>) | undefined;
}

/**
 * A pino logger writing to fd 1 synchronously from whatever thread it lives
 * in: a worker's lines never travel through postMessage, and a line logged
 * just before a crash is not lost in a buffer. Pretty output formats in the
 * same thread (no transport thread per worker); pino-pretty is loaded only
 * when asked for, since every worker boot would otherwise pay for it.
 */
export function createLogger(o: LogOptions): Logger {
  const { pino } = require('pino') as typeof import('pino');
  const opts = o.mixin ? { level: o.level, base: o.base, mixin: o.mixin } : { level: o.level, base: o.base };
  if (!o.pretty) return pino(opts, pino.destination({ dest: 1, sync: true }));
  const { PinoPretty } = require('pino-pretty') as typeof import('pino-pretty');
  return pino(opts, PinoPretty({ sync: true, destination: 1, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' }));
}

/**
 * createLogger, deferred: pino is loaded and the logger built on the first
 * use of any of its members (a line logged, its level read or set, a child
 * made), never before. An actor's worker boots without pino this way (it adds
 * ~8 ms and ~1 MB to every worker), and most actors never log a line.
 *
 * Members are the real logger's, bound to it once, so `const { info } = log`
 * works as it does on pino itself.
 */
export function lazyLogger(options: LogOptions): Logger {
  const o = { ...options };
  let real: Logger | null = null;
  const bound = new Map<PropertyKey, unknown>();
  const logger = (): Logger => (real ??= createLogger(o));
  return new Proxy({} as Logger, {
    get(_t, key) {
      // The level is read and set (a reload) without building the logger.
      if (key === 'level' && real === null) return o.level;
      const target = logger();
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      let b = bound.get(key);
      if (b === undefined || (b as { original?: unknown }).original !== v) {
        const fn = (v as (...a: unknown[]) => unknown).bind(target) as ((...a: unknown[]) => unknown) & { original?: unknown };
        fn.original = v;
        bound.set(key, (b = fn));
      }
      return b;
    },
    set(_t, key, value) {
      if (key === 'level' && real === null && typeof value === 'string') {
        if (!LEVELS.has(value)) throw new Error(`unknown level ${value}`); // as pino itself says it
        o.level = value;
        return true;
      }
      const target = logger();
      return Reflect.set(target, key, value, target);
    },
    has: (_t, key) => Reflect.has(logger(), key),
    ownKeys: () => Reflect.ownKeys(logger()),
    getOwnPropertyDescriptor(_t, key) {
      const d = Reflect.getOwnPropertyDescriptor(logger(), key);
      // A proxy may not report a property its (empty) target lacks as non-configurable.
      return d ? { ...d, configurable: true } : undefined;
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(logger()),
  });
}
