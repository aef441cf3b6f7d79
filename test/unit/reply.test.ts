import { expect } from 'chai';
import { errorEnvelope, replyEnvelope, sendAnswer } from '../../src/actor/reply.js';
import { fromWire, type WireError } from '../../src/actor/wire-error.js';
import { MailboxFullError, MessageTooLargeError, type Envelope } from '../../src/index.js';
import type { Lane } from '../../src/transport/protocol.js';

const ask: Envelope = { kind: 'ask', from: 'asker', to: 'risk', id: 7, payload: 'q' };

/** A Sender stand-in recording what goes out; the first `refuse` sends throw. */
function fakeSender(refuse = 0) {
  const sent: Array<[Envelope, Lane | undefined]> = [];
  return {
    sent,
    send(env: Envelope, lane?: Lane): void {
      if (refuse-- > 0) throw new MessageTooLargeError(2_000_000, 1_048_576, `message to '${env.to}' (maxMessageBytes)`);
      sent.push([env, lane]);
    },
  };
}

describe('answers to asks (actor/reply)', () => {
  it('builds the reply and the error answer addressed back to the asker with its id', () => {
    expect(replyEnvelope(ask, 'risk', 42)).to.deep.equal({ kind: 'reply', from: 'risk', to: 'asker', id: 7, payload: 42 });
    const err = errorEnvelope(ask, 'risk', new MailboxFullError('risk', 'fail', 'full'));
    expect(err).to.include({ kind: 'error', from: 'risk', to: 'asker', id: 7 });
    expect(fromWire(err.payload as WireError)).to.be.instanceOf(MailboxFullError);
  });

  it('sends the answer on the reply lane', () => {
    const s = fakeSender();
    sendAnswer(s, replyEnvelope(ask, 'risk', 42));
    expect(s.sent).to.deep.equal([[{ kind: 'reply', from: 'risk', to: 'asker', id: 7, payload: 42 }, 'reply']]);
  });

  it('fails the ask at once with the reason when the answer can never be sent', () => {
    const s = fakeSender(1);
    sendAnswer(s, replyEnvelope(ask, 'risk', 'x'.repeat(10)));
    expect(s.sent).to.have.length(1);
    const [env, lane] = s.sent[0]!;
    expect(lane).to.equal('reply');
    expect(env).to.include({ kind: 'error', from: 'risk', to: 'asker', id: 7 });
    const err = fromWire(env.payload as WireError) as Error & { code?: string };
    expect([err.name, err.code]).to.deep.equal(['MessageTooLargeError', 'ERR_MESSAGE_TOO_LARGE']);
  });
});
