import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

const require = createRequire(import.meta.url);

export interface LogOptions {
  level: string;
  /** Human-readable lines instead of JSON (meant for a terminal). */
  pretty: boolean;
  /** Fields on every line (system, actor, incarnation). */
  base: Record<string, unknown>;
}

/**
 * A pino logger writing to fd 1 synchronously from whatever thread it lives
 * in: a worker's lines never travel through postMessage, and a line logged
 * just before a crash is not lost in a buffer. Pretty output formats in the
 * same thread (no transport thread per worker); pino-pretty is loaded only
 * when asked for, since every worker boot would otherwise pay for it.
 */
export function createLogger(o: LogOptions): Logger {
  if (!o.pretty) return pino({ level: o.level, base: o.base }, pino.destination({ dest: 1, sync: true }));
  const { PinoPretty } = require('pino-pretty') as typeof import('pino-pretty');
  return pino({ level: o.level, base: o.base }, PinoPretty({ sync: true, destination: 1, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' }));
}
