import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { DecodeError, EncodeError, InvalidOptionError, MessageTooLargeError, type Envelope } from '../../src/index.js';
import { RecordDecoder, RecordEncoder } from '../../src/codec/records.js';
import { Codec, createRing, RingReader, RingWriter } from '../../src/internal.js';
import { writeEnvelope } from '../../src/transport/frames.js';

/** Through a ring as a send writes it (with the ring's records) or as a publish does (self-contained). */
function roundTrip(codec: Codec, env: Envelope, records = true): Envelope {
  const sab = createRing(64 * 1024);
  const w = new RingWriter(sab);
  expect(writeEnvelope(w, codec, env, records ? new RecordEncoder(w) : null)).to.equal('written');
  const r = new RingReader(sab);
  expect(r.next()).to.equal(true);
  return codec.decode(r.bytes, r.offset, r.length, env.to, new RecordDecoder(r, { copyBuffers: true, mapsAsObjects: true }));
}

describe('codec', () => {
  it('carries every envelope field and a structured payload through a ring', () => {
    const codec = new Codec();
    const env: Envelope = {
      kind: 'ask',
      from: 'strategy',
      to: 'risk',
      id: 42,
      payload: { sym: 'BTCUSD', px: 64123.5, qty: [1, 2, 3], nested: { ok: true, none: null } },
      topic: 'trade.signal.BTC',
      priority: 'high',
    };
    expect(roundTrip(codec, env)).to.deep.equal(env);
    expect(roundTrip(codec, env, false)).to.deep.equal(env);
  });

  it('carries ids of every width, long and non-ASCII names and topics, with and without records', () => {
    const codec = new Codec();
    const long = 'x'.repeat(300); // a header too long to write by hand: the whole array is packed
    const cases: Array<Partial<Envelope>> = [
      { id: 0 },
      { id: 63 },
      { id: 64 },
      { id: 255 },
      { id: 256 },
      { id: 70_000 },
      { id: 2 ** 32 + 5 },
      { id: Number.MAX_SAFE_INTEGER },
      { from: 'stratégie-Ω', topic: 'prix.€' },
      { from: long, topic: long },
      { from: 'a'.repeat(40), topic: 'b'.repeat(40) },
    ];
    for (const c of cases) {
      const env: Envelope = { kind: 'ask', from: 'strategy', to: 'risk', id: 1, payload: { px: 1.5 }, priority: 'normal', topic: undefined, ...c };
      expect(roundTrip(codec, env)).to.deep.equal(env);
      expect(roundTrip(codec, env, false)).to.deep.equal(env);
    }
  });

  it('reads the sender of each frame anew when it changes within one ring', () => {
    const codec = new Codec();
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const enc = new RecordEncoder(w);
    for (const from of ['alpha', 'alphb', 'alpha', 'beta', 'beta']) writeEnvelope(w, codec, { kind: 'tell', from, to: 'rx', id: 0, payload: 1 }, enc);
    const r = new RingReader(sab);
    const dec = new RecordDecoder(r, { copyBuffers: true, mapsAsObjects: true });
    const got: string[] = [];
    while (r.next()) got.push(codec.decode(r.bytes, r.offset, r.length, 'rx', dec).from);
    expect(got).to.deep.equal(['alpha', 'alphb', 'alpha', 'beta', 'beta']);
  });

  it('leaves `to` off the wire: the receiver fills in the inbox owner it was given', () => {
    const codec = new Codec();
    const bytes = codec.encodeToBytes({ kind: 'tell', from: 'strategy', to: 'risk-engine-7', id: 0, payload: 1 });
    expect(Buffer.from(bytes).includes('risk-engine-7')).to.equal(false);
    expect(codec.decode(bytes, 0, bytes.length, 'whoever-reads-it').to).to.equal('whoever-reads-it');
  });

  it('defaults the priority to normal and leaves the topic out when absent', () => {
    const got = roundTrip(new Codec(), { kind: 'tell', from: 'a', to: 'b', id: 0, payload: 'x' });
    expect(got.priority).to.equal('normal');
    expect(got.topic).to.equal(undefined);
  });

  it('copies binary payloads out of the ring so a reused ring cannot change them', () => {
    const codec = new Codec();
    const sab = createRing(1024);
    writeEnvelope(new RingWriter(sab), codec, { kind: 'tell', from: 'a', to: 'b', id: 0, payload: new Uint8Array([1, 2, 3, 4]) });
    const r = new RingReader(sab);
    r.next();
    const got = codec.decode(r.bytes, r.offset, r.length, 'b').payload as Uint8Array;
    r.bytes.fill(0xff);
    expect([...got]).to.deep.equal([1, 2, 3, 4]);
  });

  it('rejects a message over maxMessageBytes at send, naming size and limit, and writes nothing', () => {
    const codec = new Codec({ maxMessageBytes: 100 });
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    expect(() => writeEnvelope(w, codec, { kind: 'tell', from: 'a', to: 'risk', id: 0, payload: 'x'.repeat(200) })).to.throw(
      MessageTooLargeError,
      /message to 'risk' \(maxMessageBytes\): message of 2\d\d bytes exceeds the limit of 100 bytes/,
    );
    expect(w.stats().framesWritten).to.equal(0);
    expect(new RingReader(sab).next()).to.equal(false);
  });

  it("rejects a message larger than the ring can ever hold, naming the ring's limit", () => {
    const codec = new Codec();
    const w = new RingWriter(createRing(1024));
    expect(() => writeEnvelope(w, codec, { kind: 'tell', from: 'a', to: 'b', id: 0, payload: 'y'.repeat(600) })).to.throw(
      MessageTooLargeError,
      /ring capacity 1024.*exceeds the limit of 504/,
    );
  });

  it('reports an unknown kind as an EncodeError', () => {
    expect(() => new Codec().encode({ kind: 'shout' as 'tell', from: 'a', to: 'b', id: 0, payload: 1 })).to.throw(EncodeError, /unknown kind 'shout'/);
  });

  it('validates its options', () => {
    expect(() => new Codec({ maxMessageBytes: -1 })).to.throw(InvalidOptionError, /codec\.maxMessageBytes/);
  });

  describe('decoding untrusted bytes', () => {
    const packr = new Packr({ useRecords: false });
    const decode = (value: unknown): Envelope => {
      const b = packr.pack(value);
      return new Codec().decode(b, 0, b.length, 'b');
    };

    it('raises DecodeError for bytes that are not msgpack', () => {
      const junk = Buffer.from([0xc1, 0xc1, 0xc1]);
      expect(() => new Codec().decode(junk, 0, junk.length, 'b')).to.throw(DecodeError, /not valid msgpack|not an envelope/);
      const truncated = packr.pack([2, 'a', 0, 'a long enough payload']).subarray(0, 8);
      expect(() => new Codec().decode(truncated, 0, truncated.length, 'b')).to.throw(DecodeError, /not valid msgpack/);
    });

    it('raises DecodeError naming the field for a malformed envelope', () => {
      // The wire form is [kind | priority << 3 | records << 5, from, id, topic?, payload].
      const head = (kind: number, priority = 2): number => kind | (priority << 3);
      expect(() => decode({ not: 'an array' })).to.throw(DecodeError, /expected an array of 4 to 6 fields/);
      expect(() => decode([head(0), 'a', 0])).to.throw(DecodeError, /expected an array of 4 to 6 fields/);
      expect(() => decode(['tell', 'a', 0, null])).to.throw(DecodeError, /the first a small integer/);
      expect(() => decode([head(4), 'a', 0, null])).to.throw(DecodeError, /kind: unknown code 4/);
      expect(() => decode([head(7), 'a', 0, null])).to.throw(DecodeError, /kind: unknown code 7/);
      expect(() => decode([head(0, 3), 'a', 0, null])).to.throw(DecodeError, /priority: unknown code 3/);
      expect(() => decode([head(0), 1, 0, null])).to.throw(DecodeError, /from: expected a string/);
      expect(() => decode([head(0), 'a', 1.5, null])).to.throw(DecodeError, /id: expected an integer/);
      expect(() => decode([head(0), 'a', 0, 5, null])).to.throw(DecodeError, /topic: expected a string/);
      expect(() => decode([head(0) | 0x20, 'a', 0, null])).to.throw(DecodeError, /uses record structures, and its ring has none/);
      expect(decode([head(1, 1), 'a', 7, 't', 'x'])).to.deep.equal({ kind: 'ask', priority: 'high', from: 'a', to: 'b', id: 7, payload: 'x', topic: 't' });
    });

    it('never lets a payload set a prototype', () => {
      // {"__proto__": {"polluted": true}} as a raw msgpack map inside an envelope.
      const map = Buffer.from('81a95f5f70726f746f5f5f81a8706f6c6c75746564c3', 'hex');
      const head = packr.pack([2 << 3, 'a', 0]);
      const bytes = Buffer.concat([Buffer.from([0x94]), head.subarray(1), map]);
      const env = new Codec().decode(bytes, 0, bytes.length, 'b');
      const payload = env.payload as Record<string, unknown>;
      expect(Object.getPrototypeOf(payload)).to.equal(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect((payload as { polluted?: unknown }).polluted).to.equal(undefined);
    });
  });
});
