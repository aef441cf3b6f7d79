import type { Envelope } from '../codec/envelope.js';
import type { Sender } from './sender.js';
import { toWire } from './wire-error.js';

/** What an answer needs of the ask (or call) it answers. */
export type Question = Pick<Envelope, 'from' | 'id'>;

/** The reply from `from` to `ask`, carrying `value`. */
export function replyEnvelope(ask: Question, from: string, value: unknown): Envelope {
  return { kind: 'reply', from, to: ask.from, id: ask.id, payload: value };
}

/** The error answer from `from` to `ask`: the asker's promise rejects with `err` (rebuilt by fromWire). */
export function errorEnvelope(ask: Question, from: string, err: unknown): Envelope {
  return { kind: 'error', from, to: ask.from, id: ask.id, payload: toWire(err) };
}

/**
 * Send an answer (a reply or error envelope) on the reply lane. An answer
 * that can never be sent (too large, not encodable) fails the ask at once
 * with the reason, as an error envelope in its place, rather than leaving it
 * to time out.
 */
export function sendAnswer(sender: Pick<Sender, 'send'>, answer: Envelope): void {
  try {
    sender.send(answer, 'reply');
  } catch (err) {
    sender.send(errorEnvelope({ from: answer.to, id: answer.id }, answer.from, err), 'reply');
  }
}

/**
 * A reply that turned out undeliverable after it was queued (larger than the
 * asker's ring can ever hold, say): the asker gets an error answer with the
 * reason in its place, so its ask settles. An error answer that cannot go
 * either is only dead-lettered by the caller.
 */
export function replaceFailedReply(sender: Pick<Sender, 'send'>, failed: Envelope, err: unknown): void {
  if (failed.kind !== 'reply') return;
  try {
    sender.send(errorEnvelope({ from: failed.to, id: failed.id }, failed.from, err), 'reply');
  } catch {
    // the asker is gone: the dead letter of the reply is all there is to say
  }
}
