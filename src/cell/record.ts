import { stackWithCauses } from '../actor/wire-error.js';
import { ActorCrashedError, type CrashCause } from '../errors.js';
import type { RecordedMessage } from '../events.js';
import { createLiveness, Liveness, MSGS_FINISHED } from '../liveness/liveness.js';
import { createRecorder, readRecorder } from '../liveness/recorder.js';
import { ringDepth, ringFullEvents } from '../ring/ring.js';
import { RestartBackoff } from '../supervisor/budget.js';
import type { ExitInfo } from '../supervisor/child.js';
import type { ResolvedChildSpec, RestartType, Shutdown } from '../supervisor/spec.js';
import { SharedBreaker } from '../transport/breaker.js';
import { MailboxGate } from '../transport/mailbox.js';
import { countedLane } from '../transport/protocol.js';
import type { CellServices, CellState } from './contract.js';

/** The latest crash of an actor, recorded when detected. */
export interface CrashRecord {
  incarnation: number;
  cause: CrashCause;
  reason: string;
  /** The stack of what the actor threw, as it was in its worker (absent for a heartbeat, memory or exit crash, or a thrown non-Error). */
  stack?: string;
  at: number;
  /** The last messages it handled, oldest first, from its flight recorder (the last one is the one it died on, if it was in one). */
  recent?: RecordedMessage[];
}

/**
 * What the system keeps of one child actor across its incarnations, whatever
 * runs it: the spec, the inbox and liveness block (both belong to the system,
 * not to a worker), the mailbox bound and breaker senders read from the
 * inbox's doorbell, and the counters status and metrics show.
 */
export class CellRecord {
  spec: ResolvedChildSpec;
  readonly parent: string;
  moduleUrl: string;
  readonly liveness: Liveness;
  readonly livenessBuffer: SharedArrayBuffer;
  /** The flight recorder (null for a pool actor, or with `flightRecorder: 0`): like the liveness block, it outlives incarnations. */
  readonly recorderBuffer: SharedArrayBuffer | null;
  backoff: RestartBackoff | null;
  state: CellState = 'idle';
  incarnation = 0;
  restarts = 0;
  lastExit: ExitInfo | null = null;
  /** The latest crash, recorded when detected (before the worker is gone and lastExit is set). */
  lastCrash: CrashRecord | null = null;
  /** Ended for good (not restarted): its inbox is closed until a supervisor starts it again. */
  retired = false;
  /** Crashes by cause over the actor's life (restarts by cause, heartbeat misses). */
  readonly crashes: Partial<Record<CrashCause, number>> = {};
  /** Epoch ms the running incarnation became ready; 0 while none runs. */
  startedAt = 0;
  readonly #svc: CellServices;
  #breaker: SharedBreaker | null = null;

  constructor(spec: ResolvedChildSpec, parent: string, moduleUrl: string, svc: CellServices) {
    this.spec = spec;
    this.parent = parent;
    this.moduleUrl = moduleUrl;
    this.#svc = svc;
    this.livenessBuffer = createLiveness();
    this.liveness = new Liveness(this.livenessBuffer);
    this.recorderBuffer = spec.pool ? null : createRecorder(svc.flightRecorder);
    this.backoff = spec.backoff ? new RestartBackoff(spec.backoff) : null;
    // The inbox belongs to the actor's id for as long as the tree knows the
    // id: restarts and spec changes keep it; a forgotten id gives it up.
    if (!svc.wiring.switchboard.has(spec.id)) svc.wiring.register(spec.id, { ringBytes: spec.ringBytes, senderSlots: svc.senderSlots });
    this.#configureMailbox();
  }

  get id(): string {
    return this.spec.id;
  }
  get restart(): RestartType {
    return this.spec.restart;
  }
  get significant(): boolean {
    return this.spec.significant;
  }
  get shutdown(): Shutdown {
    return this.spec.shutdown;
  }

  /** The actor's ask breaker, as its callers see it (kept in the inbox's doorbell, shared by every caller). */
  get breaker(): SharedBreaker {
    return (this.#breaker ??= new SharedBreaker(this.#svc.wiring.switchboard.describe(this.id).doorbell));
  }

  /** Take a changed spec (hot reload). */
  replaceSpec(spec: ResolvedChildSpec, moduleUrl: string): void {
    this.spec = spec;
    this.moduleUrl = moduleUrl;
    this.backoff = spec.backoff ? new RestartBackoff(spec.backoff) : null;
    this.#configureMailbox();
  }

  /** Senders read the mailbox bound and the breaker from the inbox's doorbell: write them there. */
  #configureMailbox(): void {
    const { doorbell, rings } = this.#svc.wiring.switchboard.describe(this.id);
    // An unbounded mailbox counts nothing: a bound set now starts from what its counted lanes hold.
    let counted = 0;
    for (const { ring, lane } of rings) if (countedLane(lane)) counted += ringDepth(ring);
    new MailboxGate(doorbell).configure(this.spec.mailbox, counted);
    this.breaker.configure(this.spec.breaker);
  }

  /** A new incarnation begins: count it, reopen the inbox, reset what describes one incarnation. */
  beginIncarnation(): number {
    this.incarnation++;
    if (this.incarnation > 1) this.restarts++;
    this.state = 'starting';
    this.retired = false;
    this.startedAt = 0;
    this.liveness.resetForIncarnation();
    this.#svc.wiring.switchboard.setClosed(this.id, false); // retired before, coming back now
    return this.incarnation;
  }

  /** The incarnation is ready: report it started (first) or restarted. */
  markRunning(incarnation: number): void {
    this.state = 'running';
    this.startedAt = Date.now();
    this.#svc.emit({ type: incarnation === 1 ? 'started' : 'restarted', actor: this.id, incarnation });
  }

  /** Count and report a crash when it is detected; returns the error asks and starts settle with. */
  recordCrash(incarnation: number, cause: CrashCause, reason: string, error?: Error): ActorCrashedError {
    this.state = 'crashed';
    this.crashes[cause] = (this.crashes[cause] ?? 0) + 1;
    const stack = error ? stackWithCauses(error) : undefined;
    const recent = readRecorder(this.recorderBuffer);
    const more = { ...(stack ? { stack } : {}), ...(recent.length > 0 ? { recent } : {}) };
    this.lastCrash = { incarnation, cause, reason, ...more, at: Date.now() };
    const code = (error as { code?: unknown } | undefined)?.code;
    this.#svc.emit({ type: 'crashed', actor: this.id, incarnation, cause, reason, ...(typeof code === 'string' ? { code } : {}), ...more });
    // `cause` is what the actor threw: its stack points at the actor's own line, not at this file.
    return new ActorCrashedError(this.id, cause, reason, incarnation, error ? { cause: error } : undefined);
  }

  /** ms the running incarnation has been up; 0 when none runs. */
  uptimeMs(): number {
    return this.startedAt ? Date.now() - this.startedAt : 0;
  }

  /** The actor ends for good: its inbox closes, unread mail is dead-lettered and the asks in it settle. */
  retire(err: Error): void {
    this.retired = true;
    this.#svc.retireInbox(this.id, err);
  }

  /** Messages waiting in the inbox (replies to the actor's own asks excluded). */
  inboxDepth(): number {
    let n = 0;
    for (const { ring, lane } of this.#svc.wiring.switchboard.describe(this.id).rings) if (lane !== 'reply') n += ringDepth(ring);
    return n;
  }

  /** Sender slots of the inbox in use (see Switchboard.slotsInUse). */
  senderSlotsInUse(): number {
    return this.#svc.wiring.switchboard.slotsInUse(this.id);
  }

  /** Messages handled over every incarnation. */
  handled(): number {
    return this.liveness.read(MSGS_FINISHED);
  }

  /** Times a sender found one of this actor's rings full. */
  ringFullEvents(): number {
    let n = 0;
    for (const { ring } of this.#svc.wiring.switchboard.describe(this.id).rings) n += ringFullEvents(ring);
    return n;
  }
}
