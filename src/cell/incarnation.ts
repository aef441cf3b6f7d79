import type { Worker } from 'node:worker_threads';
import { fromWire, type WireError } from '../actor/wire-error.js';
import { expectsReply } from '../codec/envelope.js';
import type { DeadLetterReport } from '../host/protocol.js';
import type { CellServices } from './contract.js';
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

/**
 * A dead letter actor `actor`'s thread reported. When it is a message to the
 * actor that someone awaits (an ask it could not decode, or shed from a full
 * mailbox), its asker is settled from here as well: the thread's own error
 * answer travels through its rings, where it is lost if the thread dies while
 * it still waits for room or for its ring's wiring. The first settle wins.
 */
export function reportedDeadLetter(svc: CellServices, actor: string, letter: DeadLetterReport): void {
  svc.deadLetter({ ...letter, reason: letter.error.message, ...droppedBy(letter.error) }, letter.error);
  if (letter.to === actor && letter.from !== actor && expectsReply(letter.kind)) svc.settleAsk(letter.from, letter.id, fromWire(letter.error));
}

/** The error a start fails with when the module cannot load: it names the module as written and the base a relative one resolved from. */
export function moduleError(written: string, baseDir: string, cause: Error): ModuleLoadError {
  const from = written.startsWith('file:') || isAbsolute(written) ? '' : ` ('${written}' resolved from ${baseDir})`;
  return new ModuleLoadError(`${cause.message}${from}`, { cause });
}
