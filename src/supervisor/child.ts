import type { CrashCause } from '../errors.js';
import type { RestartBackoff } from './budget.js';
import type { RestartType, Shutdown } from './spec.js';

/**
 * The contract between a supervisor and what it supervises (an actor's cell,
 * a pool actor's, or a nested supervisor): how a child is started, stopped
 * and retired, and how it tells its supervisor that it ended on its own.
 */

/** How a child ended when nobody asked it to. */
export interface ExitInfo {
  /** A normal end (the actor stopped itself, or a supervisor shut itself down): no crash. */
  normal: boolean;
  cause?: CrashCause;
  reason: string;
  /** What the actor threw, rebuilt with the stack it had in its worker (crashes by exception, rejection, init, stop hook). */
  error?: Error;
  /** Which start of the child ended (its incarnation); a supervisor ignores exits of one it already replaced. */
  incarnation?: number;
}

/** What a supervisor needs of a child: a worker actor or a nested supervisor. */
export interface SupervisedChild {
  readonly id: string;
  readonly restart: RestartType;
  readonly significant: boolean;
  readonly shutdown: Shutdown;
  /** Start one incarnation; rejects (with the crash as the error) if it fails to start. */
  start(): Promise<void>;
  /** Counts starts: the incarnation of an actor, the number of starts of a supervisor. */
  readonly incarnation: number;
  /** Has a live incarnation (running, starting or stopping). */
  alive(): boolean;
  /**
   * Deliberate stop: never reported through onExit, never counted as a crash.
   * `final`: the child will not be started again (the system stops), so a
   * supervisor retires each child as soon as it stopped.
   */
  stop(reason: string, drain: boolean, final?: boolean): Promise<void>;
  /** The child ends for good (not restarted): release what it still holds. */
  retire(reason: string): void;
  /** Set by the supervisor; called when the child ends on its own (crash or normal exit). */
  onExit: (info: ExitInfo) => void;
  /** ms the current (or last) incarnation has been up. */
  uptimeMs(): number;
  /** Waiting out a backoff delay before the next start. */
  markBackingOff(delayMs: number): void;
  /** Optional: begin the slow part of starting (thread, module load) ahead of start(). */
  prewarm?(): void;
  readonly backoff: RestartBackoff | null;
}

/** Returns true when `restart` says a child that ended like `info` comes back. */
export function restartsAfter(restart: RestartType, info: ExitInfo): boolean {
  return restart === 'permanent' || (restart === 'transient' && !info.normal);
}
