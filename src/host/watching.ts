import type { ActorContext, DefinedActor } from '../actor/define.js';
import { checkWatchId, WatchSet, type TerminatedNotice } from '../actor/watch.js';
import { InvalidOptionError } from '../errors.js';
import type { HostToMain } from './protocol.js';

/**
 * One incarnation's `ctx.watch` and `ctx.unwatch`, and the `terminated`
 * notices the main thread sends it: a watch is kept here (its number) and on
 * the main thread (which sees actors end); a notice that no longer matches a
 * watch of this incarnation is dropped, so nothing arrives after `unwatch`.
 */
export class HostWatches {
  readonly #set: WatchSet;
  readonly #self: string;
  readonly #handled: boolean;
  readonly #post: (m: HostToMain) => void;

  constructor(self: string, incarnation: number, def: DefinedActor, post: (m: HostToMain) => void) {
    this.#set = new WatchSet(incarnation);
    this.#self = self;
    this.#handled = typeof def.onTerminated === 'function';
    this.#post = post;
  }

  watch(id: string): void {
    checkWatchId(id, 'ctx.watch(id)', this.#self);
    if (!this.#handled) throw new InvalidOptionError('ctx.watch()', `actor '${this.#self}' has no onTerminated(state, msg, ctx): give defineActor() one to be told when '${id}' ends`);
    const seq = this.#set.watch(id);
    if (seq > 0) this.#post({ type: 'watch', target: id, seq });
  }

  unwatch(id: string): void {
    checkWatchId(id, 'ctx.unwatch(id)', this.#self);
    if (this.#set.unwatch(id)) this.#post({ type: 'unwatch', target: id });
  }

  /** A `terminated` envelope's payload: `onTerminated`'s result, or nothing for a stale notice. */
  deliver(notice: TerminatedNotice, def: DefinedActor, state: unknown, ctx: ActorContext): unknown {
    const t = this.#set.take(notice);
    return t === null ? undefined : def.onTerminated!(state, t, ctx);
  }
}
