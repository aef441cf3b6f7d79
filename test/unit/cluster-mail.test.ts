import { expect } from 'chai';
import { Codec, type Envelope } from '../../src/codec/envelope.js';
import { encodeFrame, readFrame } from '../../src/cluster/layout.js';
import { Mail } from '../../src/cluster/mail.js';
import { Membership } from '../../src/cluster/membership.js';
import { DecodeError } from '../../src/errors.js';
import type { DeadLetter } from '../../src/events.js';

/** A node `n1` whose peer `n2` hosts `risk`, its hooks and connection recorded. */
function setup(): {
  mail: Mail;
  codec: Codec;
  sent: Array<{ env: Envelope; frame: Uint8Array | null; lane?: string }>;
  answers: Envelope[];
  letters: Array<Omit<DeadLetter, 'at'>>;
  warnings: string[];
  published: Array<{ subject: string; data: Uint8Array }>;
} {
  const codec = new Codec();
  const members = new Membership('n1', 3000, { up: () => {}, down: () => {} });
  members.beat({ node: 'n2', iid: 'b', actors: ['risk'], topics: [] });
  const out = { sent: [] as Array<{ env: Envelope; frame: Uint8Array | null; lane?: string }>, answers: [] as Envelope[], letters: [] as Array<Omit<DeadLetter, 'at'>>, warnings: [] as string[], published: [] as Array<{ subject: string; data: Uint8Array }> };
  const nc = { isClosed: () => false, publish: (subject: string, data: Uint8Array) => out.published.push({ subject, data }) };
  const mail = new Mail('n1', codec, members, () => nc as never, (n) => `m.${n}`, {
    log: { warn: (_o, m) => out.warnings.push(m) },
    isLocal: (id) => id === 'strategy',
    send: (env) => out.sent.push({ env, frame: null }),
    sendFrame: (env, frame, lane) => {
      if (env.id === 666) throw new Error('larger than the ring');
      out.sent.push({ env, frame, ...(lane ? { lane } : {}) });
    },
    answer: (env) => out.answers.push(env),
    settleAsk: () => {},
    deadLetter: (l) => out.letters.push(l),
    topic: () => {},
    proxy: () => {},
  });
  return { mail, codec, ...out };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('cluster: a message passed on as it is (mail.ts, Codec.peek)', () => {
  it('peeks at a header without unpacking the payload: kind, priority, sender, id, topic, trace; refuses bytes that are not an envelope', () => {
    const codec = new Codec();
    const plain = codec.encodeToBytes({ kind: 'ask', from: 'strategy', to: 'risk', id: 300, payload: { px: 1 }, priority: 'high', topic: 'market.btc' });
    expect(codec.peek(plain, 0, plain.length)).to.deep.equal({ kind: 'ask', priority: 'high', from: 'strategy', id: 300, topic: 'market.btc', trace: undefined, records: false });
    const traced = codec.encodeToBytes({ kind: 'tell', from: 'a', to: 'b', id: 0, payload: 1, trace: '00-abc-def-01' });
    expect(codec.peek(traced, 0, traced.length)).to.include({ kind: 'tell', priority: 'normal', trace: '00-abc-def-01', records: false });
    // a payload that is not msgpack: the header is still read (the receiver's inbox refuses the payload)
    const bad = Buffer.concat([plain.subarray(0, plain.length - 5), Buffer.from([0xc1])]);
    expect(codec.peek(bad, 0, bad.length).from).to.equal('strategy');
    expect(() => codec.decode(bad, 0, bad.length, 'risk')).to.throw(DecodeError);
    expect(() => codec.peek(Buffer.from([0x92, 1]), 0, 2)).to.throw(DecodeError, /not an envelope/);
    expect(() => codec.peek(Buffer.from([0x94, 0x04, 0xa1, 0x61, 0, 0]), 0, 6)).to.throw(DecodeError, /kind/);
  });

  it('a tell from another node goes into the local inbox as the bytes it came in, its payload decoded only for a dead letter; an answer goes on the reply lane', async () => {
    const { mail, codec, sent } = setup();
    const envelope = codec.encodeToBytes({ kind: 'tell', from: 'risk', to: 'strategy', id: 0, payload: { fill: 7 } });
    mail.incoming(encodeFrame('n2', 'strategy', envelope));
    const reply = codec.encodeToBytes({ kind: 'reply', from: 'risk', to: 'strategy', id: 9, payload: 'ok' });
    mail.incoming(encodeFrame('n2', 'strategy', reply));
    await turn();
    expect(sent.map((s) => [s.env.kind, s.lane ?? 'by priority'])).to.deep.equal([['reply', 'reply'], ['tell', 'by priority']]);
    const tell = sent[1]!;
    expect(Buffer.from(tell.frame!).equals(Buffer.from(envelope))).to.equal(true);
    expect(tell.env).to.include({ kind: 'tell', from: 'risk', to: 'strategy', id: 0, priority: 'normal' });
    expect(tell.env.payload).to.deep.equal({ fill: 7 });
    expect(mail.senders.get('risk')).to.equal('n2');
  });

  it('an answer its ring can never take goes the decoded way, whose send answers the asker with the reason', () => {
    const { mail, codec, sent, answers } = setup();
    mail.incoming(encodeFrame('n2', 'strategy', codec.encodeToBytes({ kind: 'reply', from: 'risk', to: 'strategy', id: 666, payload: 'big' })));
    expect(sent).to.deep.equal([]);
    expect(answers.map((a) => [a.kind, a.to, a.id, a.payload])).to.deep.equal([['reply', 'strategy', 666, 'big']]);
  });

  it('decodes what needs its payload here (an answer to the main thread), and drops a frame that claims a ring\'s records', async () => {
    const { mail, codec, sent, answers, warnings } = setup();
    mail.incoming(encodeFrame('n2', '$system@n1', codec.encodeToBytes({ kind: 'reply', from: 'risk', to: '$system@n1', id: 4, payload: { ok: 1 } })));
    expect(answers).to.have.length(1);
    expect(answers[0]).to.deep.include({ kind: 'reply', to: '$system', id: 4, payload: { ok: 1 } });
    const withRecords = Buffer.from(codec.encodeToBytes({ kind: 'tell', from: 'risk', to: 'strategy', id: 0, payload: { a: 1 } }));
    withRecords[1] = withRecords[1]! | 0x20;
    mail.incoming(encodeFrame('n2', 'strategy', withRecords));
    await turn();
    expect(sent).to.deep.equal([]);
    expect(warnings).to.deep.equal(['cluster: a frame that cannot be decoded was dropped']);
  });

  it('a message for an actor this node does not host is refused with its payload in the dead letter, and its ask answered', () => {
    const { mail, codec, letters, published } = setup();
    mail.incoming(encodeFrame('n2', 'ghost', codec.encodeToBytes({ kind: 'ask', from: 'risk', to: 'ghost', id: 5, payload: { q: 1 } })));
    expect(letters).to.have.length(1);
    expect(letters[0]).to.deep.include({ kind: 'ask', from: 'risk', to: 'ghost', id: 5, payload: { q: 1 } });
    expect(letters[0]!.reason).to.match(/no actor or inbox is registered as 'ghost'/);
    expect(published.map((p) => p.subject)).to.deep.equal(['m.n2']);
    const f = readFrame(published[0]!.data);
    expect(codec.decode(published[0]!.data, f.offset, published[0]!.data.length - f.offset, f.to)).to.include({ kind: 'error', from: 'ghost', id: 5 });
  });

  it('a frame read from a proxy goes onto NATS as it is behind the frame head; one from the main thread is encoded again with its node-wide id', () => {
    const { mail, codec, published } = setup();
    const envelope = codec.encodeToBytes({ kind: 'ask', from: 'strategy', to: 'risk', id: 11, payload: { px: 2 } });
    const ring = Buffer.alloc(envelope.length + 16);
    ring.set(envelope, 8);
    mail.forwardFrame('risk', ring, 8, envelope.length);
    expect(published[0]!.subject).to.equal('m.n2');
    const f = readFrame(published[0]!.data);
    expect([f.node, f.to]).to.deep.equal(['n1', 'risk']);
    expect(Buffer.from(published[0]!.data.subarray(f.offset)).equals(Buffer.from(envelope))).to.equal(true);
    expect(mail.pending.has('strategy\n11')).to.equal(true);
    const fromMain = codec.encodeToBytes({ kind: 'tell', from: '$system', to: 'risk', id: 0, payload: 1 });
    mail.forwardFrame('risk', fromMain, 0, fromMain.length);
    const g = readFrame(published[1]!.data);
    expect(codec.decode(published[1]!.data, g.offset, published[1]!.data.length - g.offset, g.to)).to.include({ from: '$system@n1', payload: 1 });
  });
});
