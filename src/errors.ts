/**
 * Every error Ringmaster throws or rejects with is a RingmasterError carrying a
 * fixed `code`, one of the table in error-codes.ts (and docs/errors.md).
 */

import type { ErrorCode } from './error-codes.js';

export { ErrorCodes, type ErrorCode } from './error-codes.js';

export class RingmasterError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = 'RingmasterError';
  }
}

export class InvalidOptionError extends RingmasterError {
  /** Dotted path of the offending field, e.g. `ring.capacityBytes`. */
  readonly path: string;
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super('ERR_INVALID_OPTION', `${path} ${reason}`, options);
    this.name = 'InvalidOptionError';
    this.path = path;
  }
}

export class RingFullError extends RingmasterError {
  constructor(message: string) {
    super('ERR_RING_FULL', message);
    this.name = 'RingFullError';
  }
}

export class RingClosedError extends RingmasterError {
  constructor(message: string) {
    super('ERR_RING_CLOSED', message);
    this.name = 'RingClosedError';
  }
}

export class RingCorruptError extends RingmasterError {
  /** Byte offset inside the ring's data area where the bad header sits. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('ERR_RING_CORRUPT', message);
    this.name = 'RingCorruptError';
    this.offset = offset;
  }
}

export class RingTimeoutError extends RingmasterError {
  constructor(message: string) {
    super('ERR_RING_TIMEOUT', message);
    this.name = 'RingTimeoutError';
  }
}

export class MessageTooLargeError extends RingmasterError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, where: string) {
    super('ERR_MESSAGE_TOO_LARGE', `${where}: message of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = 'MessageTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

export class EncodeError extends RingmasterError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_ENCODE', message, options);
    this.name = 'EncodeError';
  }
}

export class DecodeError extends RingmasterError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_DECODE', message, options);
    this.name = 'DecodeError';
  }
}

export class InboxFullError extends RingmasterError {
  constructor(message: string) {
    super('ERR_INBOX_FULL', message);
    this.name = 'InboxFullError';
  }
}

export class NotOnMainThreadError extends RingmasterError {
  constructor(what: string) {
    super('ERR_NOT_ON_MAIN_THREAD', `${what} blocks and may only be called in a worker thread; use the async form on the main thread`);
    this.name = 'NotOnMainThreadError';
  }
}

export class NoSuchActorError extends RingmasterError {
  readonly actor: string;
  constructor(actor: string, where = 'send') {
    super('ERR_NO_SUCH_ACTOR', `${where}: no actor or inbox is registered as '${actor}'`);
    this.name = 'NoSuchActorError';
    this.actor = actor;
  }
}

/** One problem in a tree spec: where it is and what is wrong. */
export interface SpecProblem {
  path: string;
  message: string;
}

export class InvalidTreeError extends RingmasterError {
  readonly problems: readonly SpecProblem[];
  constructor(problems: readonly SpecProblem[]) {
    super('ERR_INVALID_TREE', `invalid supervision tree:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'InvalidTreeError';
    this.problems = problems;
  }
}

export class AskTimeoutError extends RingmasterError {
  readonly actor: string;
  readonly timeoutMs: number;
  /** `what`: the request that went unanswered (an ask, or a control request such as `health-request`). */
  constructor(actor: string, timeoutMs: number, what = 'ask') {
    super('ERR_ASK_TIMEOUT', `${what} to '${actor}' got no reply within ${timeoutMs} ms`);
    this.name = 'AskTimeoutError';
    this.actor = actor;
    this.timeoutMs = timeoutMs;
  }
}

/** How an incarnation ended abnormally. */
export type CrashCause =
  | 'exception'
  | 'unhandled-rejection'
  | 'exit'
  | 'heartbeat'
  | 'deadline'
  | 'out-of-memory'
  | 'init'
  | 'module'
  | 'escalated';

export class ActorCrashedError extends RingmasterError {
  readonly actor: string;
  /** What ended the incarnation ('exception', 'heartbeat', …); `cause` stays the standard ErrorOptions field. */
  readonly crash: CrashCause;
  readonly reason: string;
  readonly incarnation: number;
  constructor(actor: string, crash: CrashCause, reason: string, incarnation: number, options?: ErrorOptions) {
    super('ERR_ACTOR_CRASHED', `actor '${actor}' (incarnation ${incarnation}) crashed: ${crash}: ${reason}`, options);
    this.name = 'ActorCrashedError';
    this.actor = actor;
    this.crash = crash;
    this.reason = reason;
    this.incarnation = incarnation;
  }
}

export class ActorStoppedError extends RingmasterError {
  readonly actor: string;
  constructor(actor: string, detail = 'is stopped') {
    super('ERR_ACTOR_STOPPED', `actor '${actor}' ${detail}`);
    this.name = 'ActorStoppedError';
    this.actor = actor;
  }
}

export class ModuleLoadError extends RingmasterError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_MODULE_LOAD', message, options);
    this.name = 'ModuleLoadError';
  }
}

/** A journal or snapshot store failed for `actor`'s persistence id (at sequence number `seq` when one is concerned). */
export class PersistenceError extends RingmasterError {
  readonly actor: string;
  readonly persistenceId: string;
  readonly seq: number | undefined;
  constructor(actor: string, persistenceId: string, detail: string, seq?: number, options?: ErrorOptions) {
    super('ERR_PERSISTENCE', `actor '${actor}' (persistence id '${persistenceId}'${seq !== undefined ? `, sequence number ${seq}` : ''}): ${detail}`, options);
    this.name = 'PersistenceError';
    this.actor = actor;
    this.persistenceId = persistenceId;
    this.seq = seq;
  }
}

/** Another writer holds the journal now: its epoch is newer than the one this incarnation claimed. */
export class JournalFencedError extends RingmasterError {
  readonly actor: string;
  readonly persistenceId: string;
  readonly epoch: number;
  readonly current: number;
  constructor(actor: string, persistenceId: string, epoch: number, current: number, options?: ErrorOptions) {
    super(
      'ERR_JOURNAL_FENCED',
      `actor '${actor}' (persistence id '${persistenceId}') lost its journal: it claimed epoch ${epoch}, and epoch ${current} has been claimed since (a newer incarnation or another process writes it now); nothing was written`,
      options,
    );
    this.name = 'JournalFencedError';
    this.actor = actor;
    this.persistenceId = persistenceId;
    this.epoch = epoch;
    this.current = current;
  }
}

/** Why a cluster node counts as down: it said it leaves, its heartbeats stopped, it came back as a new instance, or this node lost its NATS connection. */
export type NodeDownReason = 'left' | 'timeout' | 'restarted' | 'disconnected';

/** The node hosting `actor` is down: what was sent to it there is not delivered, and an ask to it settles with this at once. */
export class NodeDownError extends RingmasterError {
  readonly actor: string;
  readonly node: string;
  readonly reason: NodeDownReason;
  constructor(actor: string, node: string, reason: NodeDownReason) {
    super('ERR_NODE_DOWN', `actor '${actor}' is on cluster node '${node}', which is down (${reason})`);
    this.name = 'NodeDownError';
    this.actor = actor;
    this.node = node;
    this.reason = reason;
  }
}

/** A node could not join its cluster (NATS unreachable, credentials refused): the system does not start. */
export class ClusterJoinError extends RingmasterError {
  readonly node: string;
  readonly servers: readonly string[];
  constructor(node: string, servers: readonly string[], why: string, options?: ErrorOptions) {
    super('ERR_CLUSTER_JOIN', `cluster node '${node}' cannot join: ${why}`, options);
    this.name = 'ClusterJoinError';
    this.node = node;
    this.servers = servers;
  }
}

/**
 * A spawn of `id` on a cluster node was refused: node `node` hosts that id
 * (or is down and may come back with it), or spawned it at the same moment
 * and its claim won. Actor ids are unique across a cluster.
 */
export class ActorIdTakenError extends RingmasterError {
  readonly id: string;
  readonly node: string;
  constructor(id: string, node: string, message: string) {
    super('ERR_ACTOR_ID_TAKEN', message);
    this.name = 'ActorIdTakenError';
    this.id = id;
    this.node = node;
  }
}

/** A hot reload failed part-way; what it had applied was undone. `rollbackErrors`: parts that could not be undone (empty when the rollback was whole). */
export class ReloadFailedError extends RingmasterError {
  readonly rollbackErrors: readonly Error[];
  constructor(message: string, rollbackErrors: readonly Error[], options?: ErrorOptions) {
    super('ERR_RELOAD_FAILED', message, options);
    this.name = 'ReloadFailedError';
    this.rollbackErrors = rollbackErrors;
  }
}

export class EscalationError extends RingmasterError {
  readonly supervisor: string;
  constructor(supervisor: string, reason: string) {
    super('ERR_ESCALATED', `supervisor '${supervisor}' exceeded its restart intensity and failed: ${reason}`);
    this.name = 'EscalationError';
    this.supervisor = supervisor;
  }
}

/** When a breaker rejected a call: it is open, held open by hand, or half-open with every probe slot taken. */
export type CircuitRejection = 'open' | 'isolated' | 'half-open';

export class CircuitOpenError extends RingmasterError {
  readonly breaker: string;
  readonly state: CircuitRejection;
  /** Epoch ms after which the breaker lets a probe through; null while isolated (no automatic probe) or while probes are in flight. */
  readonly nextProbeAt: number | null;
  constructor(breaker: string, state: CircuitRejection, nextProbeAt: number | null) {
    const when =
      state === 'isolated' ? 'it is held open until released' : state === 'half-open' ? 'its probe calls are all in flight' : `it probes again at ${new Date(nextProbeAt ?? 0).toISOString()}`;
    super('ERR_CIRCUIT_OPEN', `circuit breaker '${breaker}' is ${state === 'half-open' ? 'half-open' : 'open'} and rejected the call: ${when}`);
    this.name = 'CircuitOpenError';
    this.breaker = breaker;
    this.state = state;
    this.nextProbeAt = nextProbeAt;
  }
}

export type OverflowPolicy = 'backpressure' | 'drop-newest' | 'drop-oldest' | 'fail';

export class MailboxFullError extends RingmasterError {
  readonly actor: string;
  readonly policy: OverflowPolicy;
  constructor(actor: string, policy: OverflowPolicy, detail: string) {
    super('ERR_MAILBOX_FULL', `actor '${actor}' mailbox is full (${policy}): ${detail}`);
    this.name = 'MailboxFullError';
    this.actor = actor;
    this.policy = policy;
  }
}

export class NoRespondersError extends RingmasterError {
  readonly topic: string;
  constructor(topic: string) {
    super('ERR_NO_RESPONDERS', `request to '${topic}': no actor subscribes to it`);
    this.name = 'NoRespondersError';
    this.topic = topic;
  }
}

export class InvalidSubjectError extends RingmasterError {
  /** The subject or pattern as given (stringified if it was not a string). */
  readonly value: string;
  /** The call that was handed the value, e.g. `ctx.publish`. */
  readonly where: string;
  /** 1-based position of the offending token, or undefined when the fault is the value as a whole. */
  readonly token: number | undefined;
  constructor(kind: 'subject' | 'pattern', value: string, where: string, reason: string, token?: number) {
    // Cap the echoed value: a runaway subject should not turn into a megabyte-long log line.
    const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
    super('ERR_INVALID_SUBJECT', `${where}: invalid ${kind} ${shown}: ${reason}`);
    this.name = 'InvalidSubjectError';
    this.value = value;
    this.where = where;
    this.token = token;
  }
}
