import type { Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';

/** When a task added by `system.onShutdown` runs: before the actors stop, or after. */
export type ShutdownPhase = 'before-actors' | 'after-actors';

/** The tasks a system's stop runs, by phase, in the order they were added. */
export class ShutdownTasks {
  readonly #tasks: Record<ShutdownPhase, Set<() => unknown>> = { 'before-actors': new Set(), 'after-actors': new Set() };

  add(phase: ShutdownPhase, task: () => unknown): () => void {
    const tasks = Object.hasOwn(this.#tasks, phase) ? this.#tasks[phase] : undefined;
    if (!tasks) throw new InvalidOptionError('onShutdown phase', `must be 'before-actors' or 'after-actors', got ${String(phase)}`);
    if (typeof task !== 'function') throw new InvalidOptionError('onShutdown task', `must be a function, got ${typeof task}`);
    tasks.add(task);
    return () => tasks.delete(task);
  }

  /** Run one phase's tasks, each awaited; one that throws is logged and the rest still run. */
  async run(phase: ShutdownPhase, reason: string, log: Logger): Promise<void> {
    for (const task of [...this.#tasks[phase]]) {
      try {
        await task();
      } catch (err) {
        log.error({ err, phase, reason }, 'shutdown task failed');
      }
    }
  }
}
