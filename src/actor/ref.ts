import type { AskOptions, TellOptions } from './define.js';
import type { AnyActor, MessageFor, RefAnswer } from './protocol.js';

/** How a ref reaches its system (kept apart so a ref holds no system internals). */
export interface RefPort {
  tell(to: string, msg: unknown, options?: TellOptions): void;
  ask<R>(to: string, msg: unknown, options?: AskOptions): Promise<R>;
  /** The cluster node hosting `to` (a system that is a cluster node answers). */
  node?(to: string): string | undefined;
}

/**
 * An address of an actor. Cheap to make; valid across restarts. `T` is the
 * actor's type (`ActorRef<typeof Sink>`, from `system.ref<typeof Sink>('sink')`):
 * then `tell` and `ask` take only Sink's messages and `ask` settles with its
 * reply type. Any other `T` is the message type, and asks are unchecked.
 */
export class ActorRef<T = unknown> {
  readonly id: string;
  readonly #port: RefPort;

  constructor(id: string, port: RefPort) {
    this.id = id;
    this.#port = port;
  }

  /**
   * The cluster node hosting the actor now: this node's name for a local
   * actor, another node's for one it hosts, undefined when no node is known
   * to host it (or the system is not a cluster node).
   */
  get node(): string | undefined {
    return this.#port.node?.(this.id);
  }

  /**
   * Fire and forget. Never blocks; a message that cannot be delivered becomes
   * a dead letter. Throws MailboxFullError when the actor's mailbox is full
   * and its overflow policy is `fail`.
   */
  tell(msg: MessageFor<T>, options?: TellOptions): void {
    this.#port.tell(this.id, msg, options);
  }

  /**
   * Request/response. Settles with the reply, or with AskTimeoutError,
   * ActorCrashedError, ActorStoppedError or NoSuchActorError.
   */
  ask<R = RefAnswer<T>>(msg: MessageFor<T>, options?: AskOptions): Promise<[T] extends [AnyActor] ? RefAnswer<T> : R> {
    // With an actor's type the answer is its reply type, whatever `R` says; otherwise `R` is the caller's cast.
    return this.#port.ask(this.id, msg, options);
  }
}
