import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

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
 * same thread (no transport thread per worker).
 */
export function createLogger(o: LogOptions): Logger {
  const dest = o.pretty ? PinoPretty({ sync: true, destination: 1, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' }) : pino.destination({ dest: 1, sync: true });
  return pino({ level: o.level, base: o.base }, dest);
}
