import type { Worker } from 'node:worker_threads';
import type { WireError } from '../actor/wire-error.js';
import { isAbsolute } from 'node:path';
import { ModuleLoadError, type OverflowPolicy } from '../errors.js';
import type { ControlChannel } from './control.js';

/** One incarnation's worker and where its life stands. */
export interface Incarnation {
  n: number;
  worker: Worker;
  control: ControlChannel;
  pendingStart: { resolve: () => void; reject: (e: Error) => void } | null;
  /** Set once the incarnation ended on its own; resolves when that is fully handled. */
  ending: Promise<void> | null;
  /** A stop was asked for: its end is not a crash and is not reported to the supervisor. */
  deliberate: boolean;
  onStopped: (() => void) | null;
  exited: Promise<void>;
  /** Settles when the start does (ready, or failed). */
  started?: Promise<void>;
}

export function describeWireError(e: WireError): string {
  return `${e.name}: ${e.message}`;
}

/** The overflow policy that dropped a message, when a MailboxFullError is why it is a dead letter. */
export function droppedBy(err: { code?: string; policy?: string }): { dropped?: OverflowPolicy } {
  return err.code === 'ERR_MAILBOX_FULL' && err.policy ? { dropped: err.policy as OverflowPolicy } : {};
}

/** The error a start fails with when the module cannot load: it names the module as written and the base a relative one resolved from. */
export function moduleError(written: string, baseDir: string, cause: Error): ModuleLoadError {
  const from = written.startsWith('file:') || isAbsolute(written) ? '' : ` ('${written}' resolved from ${baseDir})`;
  return new ModuleLoadError(`${cause.message}${from}`, { cause });
}
