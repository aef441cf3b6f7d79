import type { AskOptions, TellOptions } from '../actor/define.js';

/** How a ref reaches its system (kept apart so a ref holds no system internals). */
export interface RefPort {
  tell(to: string, msg: unknown, options?: TellOptions): void;
  ask<R>(to: string, msg: unknown, options?: AskOptions): Promise<R>;
}

/** An address of an actor, usable from the main thread. Cheap to make; valid across restarts. */
export class ActorRef<Msg = unknown> {
  readonly id: string;
  readonly #port: RefPort;

  constructor(id: string, port: RefPort) {
    this.id = id;
    this.#port = port;
  }

  /**
   * Fire and forget. Never blocks; a message that cannot be delivered becomes
   * a dead letter. Throws MailboxFullError when the actor's mailbox is full
   * and its overflow policy is `fail`.
   */
  tell(msg: Msg, options?: TellOptions): void {
    this.#port.tell(this.id, msg, options);
  }

  /**
   * Request/response. Settles with the reply, or with AskTimeoutError,
   * ActorCrashedError, ActorStoppedError or NoSuchActorError.
   */
  ask<R = unknown>(msg: Msg, options?: AskOptions): Promise<R> {
    return this.#port.ask<R>(this.id, msg, options);
  }
}
