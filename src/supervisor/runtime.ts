import { EscalationError, NoSuchActorError } from '../errors.js';
import { RestartBudget } from './budget.js';
import { restartsAfter, type ExitInfo, type SupervisedChild } from './child.js';
import { BackoffWaits, ReactionQueue } from './reactions.js';
import type { ResolvedSupervisorSpec, RestartType, Shutdown } from './spec.js';

export type SupervisorEvent =
  | { type: 'restarting'; actor: string; delayMs: number; strategy: string }
  | { type: 'escalated'; supervisor: string; reason: string }
  | { type: 'auto-shutdown'; supervisor: string; reason: string };

export type SupervisorState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * One supervisor of the tree, applying its strategy, restart intensity and
 * auto-shutdown to its children. Reactions to child exits run one at a time
 * (a ReactionQueue), so two crashes never interleave their restarts.
 */
export class Supervisor implements SupervisedChild {
  spec: ResolvedSupervisorSpec;
  readonly children: SupervisedChild[] = [];
  onExit: (info: ExitInfo) => void = () => {};
  /** Set by the system: a child left this supervisor's list for good, removed (`'removed'`) or a temporary child that ended (`'ended'`). */
  onChildRemoved: (child: SupervisedChild, why: 'removed' | 'ended') => void = () => {};
  readonly backoff = null;
  #state: SupervisorState = 'idle';
  #budget: RestartBudget;
  readonly #queue = new ReactionQueue();
  readonly #waits = new BackoffWaits();
  #startedAt = 0;
  #incarnation = 0;
  readonly #emit: (e: SupervisorEvent) => void;

  constructor(spec: ResolvedSupervisorSpec, emit: (e: SupervisorEvent) => void) {
    this.spec = spec;
    this.#budget = new RestartBudget(spec.intensity, spec.periodMs);
    this.#emit = emit;
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
  get state(): SupervisorState {
    return this.#state;
  }
  get incarnation(): number {
    return this.#incarnation;
  }

  alive(): boolean {
    return this.#state === 'running' || this.#state === 'starting' || this.#state === 'stopping';
  }

  /** Restarts this supervisor may still make in the current period. */
  remainingRestarts(): number {
    return this.#budget.remaining(Date.now());
  }

  uptimeMs(): number {
    return this.#startedAt ? Date.now() - this.#startedAt : 0;
  }

  markBackingOff(): void {}

  prewarm(): void {
    for (const c of this.children) c.prewarm?.();
  }

  adopt(child: SupervisedChild): void {
    child.onExit = (info) => this.#queue.enqueue(() => this.#childExited(child, info));
    this.children.push(child);
  }

  /**
   * Add and start a child while running (dynamic children). As OTP's
   * start_child: a child that fails to start is not added, the error goes to
   * the caller, and the restart budget is not touched.
   */
  spawn(child: SupervisedChild): Promise<void> {
    return this.#queue.run(async () => {
      if (this.#state !== 'running') throw new EscalationError(this.id, `supervisor is ${this.#state}; cannot add '${child.id}'`);
      this.adopt(child);
      try {
        await child.start();
      } catch (err) {
        this.#unlist(child);
        child.retire((err as Error).message);
        throw err;
      }
    });
  }

  /** Take changed supervisor fields (hot reload); the restart budget starts afresh. */
  updateSpec(spec: ResolvedSupervisorSpec): void {
    this.spec = { ...spec, children: this.spec.children };
    this.#budget = new RestartBudget(spec.intensity, spec.periodMs);
  }

  /** Stop a child deliberately and start it again (an operator's restart: not a crash, not counted). */
  restartChild(id: string): Promise<void> {
    return this.#queue.run(async () => {
      const c = this.#child(id);
      await c.stop('restart requested', false);
      if (!(await this.#startChild(c))) throw new EscalationError(this.id, this.#failure);
    });
  }

  /** Stop a child for good (OTP's terminate_child): it stays listed, stopped, until restarted. */
  terminateChild(id: string): Promise<void> {
    return this.#queue.run(async () => {
      const c = this.#child(id);
      await c.stop('stop requested', true);
      c.retire('stop requested');
    });
  }

  /** Remove a child: stop it for good and forget it (a child deleted from the tree). */
  removeChild(id: string): Promise<void> {
    return this.#queue.run(async () => {
      const c = this.#child(id);
      await c.stop('removed from the tree', true);
      c.retire('removed from the tree');
      this.#remove(c, 'removed');
    });
  }

  #remove(c: SupervisedChild, why: 'removed' | 'ended'): void {
    if (this.#unlist(c)) this.onChildRemoved(c, why);
  }

  /** Take `c` off the children (false when it was not on them: splice(-1) would drop the last sibling instead). */
  #unlist(c: SupervisedChild): boolean {
    const at = this.children.indexOf(c);
    if (at >= 0) this.children.splice(at, 1);
    return at >= 0;
  }

  #child(id: string): SupervisedChild {
    const c = this.children.find((x) => x.id === id);
    if (!c) throw new NoSuchActorError(id, `supervisor '${this.id}'`);
    if (this.#state !== 'running') throw new EscalationError(this.id, `is ${this.#state}`);
    return c;
  }

  /** Start every child in start order. Rejects with EscalationError if the restart budget runs out meanwhile. */
  async start(): Promise<void> {
    this.#state = 'starting';
    this.#incarnation++;
    this.#budget = new RestartBudget(this.spec.intensity, this.spec.periodMs);
    this.#endedSignificant.clear();
    this.#failure = '';
    this.#startedAt = Date.now();
    // Children boot their threads side by side; their init still runs one
    // after another in start order, as OTP starts children.
    this.prewarm();
    await this.#queue.run(async () => {
      for (const c of [...this.children]) {
        if (this.#state !== 'starting') return;
        if (!(await this.#startChild(c))) throw new EscalationError(this.id, this.#failure);
      }
      this.#state = 'running';
    });
    if ((this.#state as SupervisorState) !== 'running') throw new EscalationError(this.id, this.#failure || 'stopped while starting');
  }

  async stop(reason: string, drain: boolean, final = false): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.#waits.cancelAll();
    // Stop the children first: a reaction in the queue may be waiting on a
    // child's start, which only a stop ends. Then let the queue settle (every
    // reaction bails out once it sees 'stopping') and sweep again.
    await this.#stopChildren(this.children, reason, drain, final);
    await this.#queue.settled();
    await this.#stopChildren(this.children, reason, drain, final);
    this.#state = 'stopped';
  }

  retire(reason: string): void {
    for (const c of this.children) c.retire(reason);
  }

  #failure = '';

  async #childExited(child: SupervisedChild, info: ExitInfo): Promise<void> {
    if (this.#state !== 'running' || !this.children.includes(child)) return;
    // An exit of an incarnation that was already replaced (say, restarted
    // with a sibling meanwhile) is old news.
    if (info.incarnation !== undefined && info.incarnation !== child.incarnation) return;
    if (!restartsAfter(child.restart, info)) {
      child.retire(info.reason);
      if (child.restart === 'temporary') this.#remove(child, 'ended');
      await this.#maybeAutoShutdown(child);
      return;
    }
    if (!this.#budget.spend(Date.now())) {
      await this.#escalate(`'${child.id}' ${info.normal ? 'exited' : `crashed (${info.cause}: ${info.reason})`}; more than ${this.spec.intensity} restarts in ${this.spec.periodMs} ms`);
      return;
    }
    const strategy = this.spec.strategy;
    let group: SupervisedChild[];
    if (strategy === 'one_for_all') group = [...this.children];
    else if (strategy === 'rest_for_one') group = this.children.slice(this.children.indexOf(child));
    else group = [child];
    // Siblings restarted with it stop deliberately, newest first; their
    // unread messages stay in their inboxes for the next incarnation.
    await this.#stopChildren(group.filter((c) => c !== child), `restart (${strategy} after '${child.id}')`, false);
    const delay = child.backoff ? child.backoff.next(child.uptimeMs()) : 0;
    for (const c of group) this.#emit({ type: 'restarting', actor: c.id, delayMs: c === child ? delay : 0, strategy });
    if (delay > 0) {
      // Wait out the backoff off the reaction queue, so siblings' restarts
      // and operator actions are not held up behind it.
      child.markBackingOff(delay);
      this.#waits.later(delay, () => this.#queue.enqueue(() => this.#startGroup(group)));
      return;
    }
    await this.#startGroup(group);
  }

  async #startGroup(group: SupervisedChild[]): Promise<void> {
    for (const c of group) {
      if (this.#state !== 'running') return;
      if (!this.children.includes(c) || c.alive()) continue;
      if (!(await this.#startChild(c))) return;
    }
  }

  /** Start `c`, restarting it while starts fail and the budget lasts. False once the supervisor has failed. */
  async #startChild(c: SupervisedChild): Promise<boolean> {
    for (;;) {
      try {
        await c.start();
        return true;
      } catch (err) {
        const reason = (err as Error).message;
        if (this.#state !== 'running' && this.#state !== 'starting') return false;
        if ((err as { code?: string }).code === 'ERR_MODULE_LOAD') {
          // It would fail the same way every time: no retry, no restart budget
          // spent. A first start fails with it; a restart leaves the child
          // down (its health says so) until an operator restarts it.
          if (this.#state === 'starting') throw err;
          c.retire(reason);
          return true;
        }
        if (!restartsAfter(c.restart, { normal: false, reason })) {
          c.retire(reason);
          return true;
        }
        if (!this.#budget.spend(Date.now())) {
          await this.#escalate(`'${c.id}' failed to start (${reason}); more than ${this.spec.intensity} restarts in ${this.spec.periodMs} ms`);
          return false;
        }
        const delay = c.backoff ? c.backoff.next(0) : 0;
        this.#emit({ type: 'restarting', actor: c.id, delayMs: delay, strategy: this.spec.strategy });
        if (delay > 0) {
          c.markBackingOff(delay);
          await this.#waits.sleep(delay);
          if (this.#state !== 'running' && this.#state !== 'starting') return false;
        }
      }
    }
  }

  async #escalate(reason: string): Promise<void> {
    const wasStarting = this.#state === 'starting';
    this.#state = 'failed';
    this.#failure = reason;
    await this.#stopChildren(this.children, `escalation: ${reason}`, false);
    this.#emit({ type: 'escalated', supervisor: this.id, reason });
    // While starting, the caller of start() learns of it from the rejection.
    if (!wasStarting) this.onExit({ normal: false, cause: 'escalated', reason, incarnation: this.#incarnation });
  }

  async #maybeAutoShutdown(child: SupervisedChild): Promise<void> {
    const mode = this.spec.autoShutdown;
    if (!child.significant || mode === 'never') return;
    this.#endedSignificant.add(child.id);
    if (mode === 'all_significant' && this.children.some((c) => c.significant && !this.#endedSignificant.has(c.id))) return;
    const reason = `auto_shutdown (${mode}) after significant child '${child.id}' ended`;
    this.#state = 'stopping';
    await this.#stopChildren(this.children, reason, true);
    this.retire(reason);
    this.#state = 'stopped';
    this.#emit({ type: 'auto-shutdown', supervisor: this.id, reason });
    this.onExit({ normal: true, reason, incarnation: this.#incarnation });
  }

  /** Significant children that have ended and were not restarted (for all_significant). */
  #endedSignificant = new Set<string>();

  /**
   * Stop `list` newest first. On a final stop each child is retired as soon
   * as it stopped: its unread mail is dead-lettered and the asks in it settle
   * now, so an older sibling still draining, whose handler awaits an ask to
   * it, is answered instead of waiting out its timeout.
   */
  async #stopChildren(list: SupervisedChild[], reason: string, drain: boolean, final = false): Promise<void> {
    for (const c of [...list].reverse()) {
      await c.stop(reason, drain, final);
      if (final) c.retire(reason);
    }
  }
}
