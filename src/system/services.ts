import type { Codec, Envelope } from '../codec/envelope.js';
import type { Watchdog } from '../health/watchdog.js';
import type { Wiring } from '../transport/wiring.js';
import type { WireError } from '../actor/wire-error.js';
import type { Subscription } from '../bus/registry.js';
import type { DeadLetter, EventInput } from './events.js';

/** What the system lends each actor cell. */
export interface CellServices {
  systemName: string;
  wiring: Wiring;
  hostUrl: URL;
  /** piscina's worker entry for pool actors. */
  poolWorkerUrl: URL;
  /** Send a reply or error from the main thread on an actor's behalf (pool actors answer this way). */
  replyFromMain(env: Envelope): void;
  codec: Codec;
  watchdog: Watchdog;
  logLevel: string;
  logPretty: boolean;
  maxMessageBytes: number;
  spinMicros: number;
  sendTimeoutMs: number;
  askTimeoutMs: number;
  senderSlots: number;
  emit(e: EventInput): void;
  deadLetter(letter: Omit<DeadLetter, 'at'>, error?: WireError | Error): void;
  /** Settle ask `askId` of `asker` (an actor id or the system) with `err`. */
  settleAsk(asker: string, askId: number, err: Error): void;
  /** Every topic subscription now, for a starting incarnation's copy. */
  subscriptions(): Subscription[];
  subscribe(actor: string, pattern: string): void;
  unsubscribe(actor: string, pattern: string): void;
  /** The actor will not come back: dead-letter its unread mail and settle the asks in it. */
  retireInbox(actor: string, err: Error): void;
}
