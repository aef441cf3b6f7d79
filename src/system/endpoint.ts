import { AskTable } from '../actor/asks.js';
import type { AskOptions, TellOptions } from '../actor/define.js';
import { Sender, type OutboxSource } from '../actor/sender.js';
import { errorEnvelope, replyEnvelope, sendAnswer, type Question } from '../actor/reply.js';
import { fromWire, toWire, type WireError } from '../actor/wire-error.js';
import type { ChildCell } from '../cell/contract.js';
import { expectsReply, type Codec, type Envelope, type EnvelopeHeader } from '../codec/envelope.js';
import { undecodableError } from '../transport/decoding.js';
import { ActorStoppedError, MailboxFullError, NoSuchActorError, type DecodeError } from '../errors.js';
import type { DeadLetter } from '../events.js';
import { guarded } from '../transport/breaker.js';
import type { SpinBudget } from '../ring/spin-budget.js';
import { Inbox } from '../transport/inbox.js';
import { Outbox } from '../transport/outbox.js';
import type { Lane } from '../transport/protocol.js';
import type { Wiring } from '../transport/wiring.js';

/** The main thread's own address on the data plane. */
export const SYSTEM_ID = '$system';
/** Sender slots of the main thread's inbox: every actor that answers an ask from here takes one. */
const SYSTEM_INBOX_SLOTS = 4096;
/** Ring size of each sender into the main thread's inbox, bytes. */
const SYSTEM_RING_BYTES = 256 * 1024;
const LANES: readonly Lane[] = ['system', 'high', 'normal', 'reply'];
/** Longest the pump sleeps between checks when nothing rings, ms. */
const PUMP_PARK_MS = 1000;
/**
 * Replies settled in a row by spinning, without the event loop getting a
 * turn, before the next one waits for the pump: a loop of asks must not
 * starve timers and I/O.
 */
const POLL_TURN_MS = 5;

/** What the endpoint needs of the rest of the system. */
export interface EndpointHooks {
  cell(id: string): ChildCell | undefined;
  deadLetter(letter: Omit<DeadLetter, 'at'>): void;
  /** Mail for the main thread (topic deliveries); false = nobody here takes it. */
  deliver(env: Envelope): boolean;
  /** Why tells and asks are refused now (the system is stopping), or null while they are taken. */
  refusal(): string | null;
  /** Is `id` an actor of another cluster node (asked through its proxy inbox here)? */
  remote(id: string): boolean;
}

/**
 * The main thread as a peer on the data plane: its inbox (one ring from each
 * actor that answers it), its outboxes, and the asks it has open. Replies are
 * read by a pump that parks with `Atomics.waitAsync`, so asks from here never
 * block the event loop.
 */
export class MainEndpoint {
  readonly inbox: Inbox;
  readonly sender: Sender;
  readonly #asks = new AskTable();
  /**
   * The cluster's own path for mail from this thread to an actor of another
   * node (set when the system joins a cluster): true when it took `env`. The
   * main thread hands such mail straight to it, rather than through a ring
   * to the proxy inbox that it would read back on this same thread.
   */
  direct: ((env: Envelope) => boolean) | null = null;
  readonly #out: Pick<Sender, 'send'> = { send: (env, lane) => void (this.direct?.(env) || this.sender.send(env, lane)) };
  /** Outboxes per lane and receiver: looked up on every send, so no key string is built. */
  readonly #outboxes: Record<Lane, Map<string, Outbox>> = { system: new Map(), high: new Map(), normal: new Map(), reply: new Map() };
  readonly #wiring: Wiring;
  readonly #codec: Codec;
  readonly #askTimeoutMs: number;
  readonly #hooks: EndpointHooks;
  #pumping = true;
  /** A reply poll is queued as a microtask. */
  #polling = false;
  /** End of the current run of polls that kept the event loop waiting (performance.now() ms), 0 = none running. */
  #turnEnds = 0;
  /** When a poll stopped spinning with asks still open (performance.now() ms), 0 = none: the next reply teaches the spin the gap. */
  #unansweredSince = 0;
  readonly #onReply = (env: Envelope): void => {
    if (this.#unansweredSince !== 0) {
      this.inbox.learnGap(performance.now() - this.#unansweredSince);
      this.#unansweredSince = 0;
    }
    this.#settle(env);
  };
  readonly #poll = (): void => this.#pollReplies();

  constructor(
    wiring: Wiring,
    codec: Codec,
    opts: { sendTimeoutMs: number; askTimeoutMs: number; spin?: { micros: number; adaptive: boolean; budget: SpinBudget | null } },
    hooks: EndpointHooks,
  ) {
    this.#wiring = wiring;
    this.#codec = codec;
    this.#askTimeoutMs = opts.askTimeoutMs;
    this.#hooks = hooks;
    const desc = wiring.register(SYSTEM_ID, { senderSlots: SYSTEM_INBOX_SLOTS, ringBytes: SYSTEM_RING_BYTES });
    this.inbox = new Inbox(desc.doorbell, {
      id: SYSTEM_ID,
      codec,
      spinMicros: opts.spin?.micros ?? 0,
      adaptiveSpin: opts.spin?.adaptive ?? true,
      spinBudget: opts.spin?.budget ?? null,
      onUndecodable: (_slot, err, raw, header) => this.#undecodable(err, raw, header),
    });
    wiring.bindLocal(SYSTEM_ID, this.inbox);
    // An inbox gone for good takes its rings with it: drop ours to it.
    wiring.onLocalRevoke((_sender, to) => {
      for (const lane of LANES) this.#outboxes[lane].delete(to);
    });
    this.sender = new Sender(this.#source(), codec, (env, err) => this.#undeliverable(env, err), opts.sendTimeoutMs);
  }

  tell(to: string, msg: unknown, options?: TellOptions): void {
    const refused = this.#hooks.refusal();
    if (refused) {
      this.#hooks.deadLetter({ kind: 'tell', from: SYSTEM_ID, to, id: 0, payload: msg, reason: refused });
      return;
    }
    this.#out.send({ kind: 'tell', from: SYSTEM_ID, to, id: 0, payload: msg, priority: options?.priority });
  }

  ask<R>(to: string, msg: unknown, options: AskOptions = {}, topic?: string, kind: 'ask' | 'call' = 'ask'): Promise<R> {
    const breaker = this.#hooks.cell(to)?.record.breaker;
    if (breaker?.enabled) return guarded(breaker, to, () => this.#ask<R>(to, msg, options, topic, kind));
    return this.#ask<R>(to, msg, options, topic, kind);
  }

  #ask<R>(to: string, msg: unknown, options: AskOptions, topic: string | undefined, kind: 'ask' | 'call'): Promise<R> {
    const refused = this.#hooks.refusal();
    if (refused) return Promise.reject(new ActorStoppedError(to, `cannot be asked: ${refused}`));
    const cell = this.#hooks.cell(to);
    if (!cell && !this.#hooks.remote(to)) return Promise.reject(new NoSuchActorError(to, 'ask'));
    if (cell?.record.retired) return Promise.reject(new ActorStoppedError(to, `is stopped for good (${cell.record.lastExit?.reason ?? 'retired'})`));
    const { id, promise } = this.#asks.open<R>(to, options.timeout ?? this.#askTimeoutMs);
    try {
      this.#out.send({ kind, from: SYSTEM_ID, to, id, payload: msg, priority: options.priority, topic });
    } catch (err) {
      this.#asks.reject(id, err as Error);
    }
    // A pool actor's inbox is read on this thread: its reply cannot come while this thread spins for it.
    if (!this.#polling && cell && !cell.record.spec.pool) {
      // Once the caller's code has sent all it sends this turn, look for the replies.
      this.#polling = true;
      this.inbox.markBusy();
      queueMicrotask(this.#poll);
    }
    return promise;
  }

  /**
   * The main thread as a fast peer: right after a turn that sent asks, spin
   * a few µs for their replies (when the inbox's spin policy says they are
   * near and the process has a spin seat free) and settle them in the same
   * turn; the awaiting code goes on without a trip through the event loop.
   * After POLL_TURN_MS of asks settled this way the event loop gets its
   * turn: the replies are then left to the pump.
   */
  #pollReplies(): void {
    this.#polling = false;
    const now = performance.now();
    if (this.#turnEnds === 0) {
      this.#turnEnds = now + POLL_TURN_MS;
      setImmediate(() => (this.#turnEnds = 0));
    } else if (now > this.#turnEnds) {
      return;
    }
    const inbox = this.inbox;
    inbox.drainReplies(this.#onReply);
    if (this.#asks.size === 0) return;
    const from = performance.now();
    if (inbox.spinNow()) inbox.drainReplies(this.#onReply);
    if (this.#asks.size > 0 && this.#unansweredSince === 0) this.#unansweredSince = from;
  }

  /** Answer request `to` (an ask that reached the main thread) with `value`, or with `error`. */
  reply(to: Question, value: unknown, error?: Error): void {
    this.replyFromMain(error ? errorEnvelope(to, SYSTEM_ID, error) : replyEnvelope(to, SYSTEM_ID, value));
  }

  /**
   * Send a reply or error from the main thread, on its own behalf or an
   * actor's (pool actors answer this way). A reply that cannot be sent (too
   * large, say) goes out as the error that stopped it, so the asker settles.
   */
  replyFromMain(env: Envelope): void {
    if (env.to === SYSTEM_ID) this.#settle(env);
    else sendAnswer(this.#out, env);
  }

  /** Settle ask `askId` of `asker` (the main thread or an actor) with `err`. */
  settleAsk(asker: string, askId: number, err: Error): void {
    if (asker === SYSTEM_ID) this.#asks.reject(askId, err);
    else this.#hooks.cell(asker)?.post({ type: 'settle-ask', askId, error: toWire(err) });
  }

  /** Settle every open ask of the main thread (the system stops). */
  rejectAll(errorFor: (actor: string) => Error): void {
    this.#asks.rejectAll(errorFor);
  }

  /** Read the main thread's inbox (replies to its asks, topic mail) until close(), without blocking the loop. */
  pump(): Promise<void> {
    this.#pump ??= this.#run();
    return this.#pump;
  }

  #pump: Promise<void> | null = null;

  async #run(): Promise<void> {
    const onReply = this.#onReply;
    const onMail = (env: Envelope): void => {
      if (this.#hooks.deliver(env)) return;
      this.#hooks.deadLetter({ kind: env.kind, from: env.from, to: SYSTEM_ID, id: env.id, payload: env.payload, reason: 'the system takes no mail' });
      if (expectsReply(env.kind)) this.settleAsk(env.from, env.id, new NoSuchActorError(SYSTEM_ID, 'ask'));
    };
    while (this.#pumping) {
      this.inbox.drainReplies(onReply);
      this.inbox.drainMail(Infinity, onMail);
      await this.inbox.waitForWorkAsync(PUMP_PARK_MS);
    }
  }

  /** End the pump; resolves once it has (its wait and the timer it holds are done). */
  close(): Promise<void> {
    this.#pumping = false;
    this.inbox.doorbell.wake();
    return this.#pump ?? Promise.resolve();
  }

  /** A frame to the main thread that cannot be decoded: a dead letter naming its sender, and whoever awaits it settles at once. */
  #undecodable(err: DecodeError, raw: Uint8Array, header: EnvelopeHeader | null): void {
    const e = undecodableError(SYSTEM_ID, err, header);
    this.#hooks.deadLetter({ kind: header?.kind ?? 'tell', from: header?.from ?? '?', to: SYSTEM_ID, id: header?.id ?? 0, payload: raw, reason: e.message });
    if (!header) return;
    if (expectsReply(header.kind)) this.reply(header, undefined, e);
    else if (header.kind === 'reply' || header.kind === 'error') this.#asks.reject(header.id, e);
  }

  #settle(env: Envelope): void {
    if (env.kind === 'reply') this.#asks.resolve(env.id, env.payload, env.from);
    else if (env.kind === 'error') this.#asks.reject(env.id, fromWire(env.payload as WireError));
  }

  #source(): OutboxSource {
    const get = (to: string, lane: Lane): Outbox | Error => {
      const byTo = this.#outboxes[lane];
      let out = byTo.get(to);
      if (out) return out;
      if (!this.#wiring.switchboard.has(to)) return new NoSuchActorError(to);
      try {
        out = new Outbox(this.#wiring.switchboard.connect(SYSTEM_ID, to, lane), this.#codec);
      } catch (err) {
        return err as Error; // e.g. the inbox has no sender slot left: a dead letter, not a throw from tell()
      }
      byTo.set(to, out);
      return out;
    };
    return {
      outboxIfReady: (to, lane) => {
        const out = this.#outboxes[lane].get(to) ?? get(to, lane);
        return out instanceof Error ? undefined : out;
      },
      outbox: (to, lane) => {
        const out = get(to, lane);
        return out instanceof Error ? Promise.reject(out) : Promise.resolve(out);
      },
    };
  }

  #undeliverable(env: Envelope, err: Error): void {
    if (expectsReply(env.kind) && env.from === SYSTEM_ID) this.#asks.reject(env.id, err);
    this.#hooks.deadLetter({ kind: env.kind, from: env.from, to: env.to, id: env.id, payload: env.payload, reason: err.message, ...(err instanceof MailboxFullError ? { dropped: err.policy } : {}) });
  }
}
