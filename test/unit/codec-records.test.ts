import { expect } from 'chai';
import { Unpackr } from 'msgpackr';
import { DecodeError, type Envelope } from '../../src/index.js';
import { Codec, createRing, MAX_SHARED_STRUCTURES, RecordDecoder, RecordEncoder, RingReader, RingWriter } from '../../src/internal.js';
import { writeEnvelope } from '../../src/transport/frames.js';

const tell = (payload: unknown): Envelope => ({ kind: 'tell', from: 'strategy', to: 'risk', id: 0, payload });
const tick = (seq: number): { sym: string; px: number; seq: number } => ({ sym: 'BTCUSD', px: 101.5, seq });

/** One sender incarnation on `ring`: a fresh writer and record encoder, as a restarted thread builds them. */
function sender(ring: SharedArrayBuffer): (payload: unknown) => void {
  const codec = new Codec();
  const w = new RingWriter(ring);
  const records = new RecordEncoder(w);
  return (payload) => expect(writeEnvelope(w, codec, tell(payload), records)).to.equal('written');
}

/** One receiver incarnation on `ring`: reads up to `max` frames and releases them, as a restarted inbox does. */
function receiver(ring: SharedArrayBuffer): (max?: number) => unknown[] {
  const codec = new Codec();
  const r = new RingReader(ring);
  const records = new RecordDecoder(r, { copyBuffers: true, mapsAsObjects: true });
  return (max = Infinity) => {
    const got: unknown[] = [];
    while (got.length < max && r.next()) got.push(codec.decode(r.bytes, r.offset, r.length, 'risk', records).payload);
    r.commit();
    return got;
  };
}

describe('codec records (structures kept in the ring)', () => {
  it('packs objects of a known shape as records: smaller frames, the same values', () => {
    const codec = new Codec();
    const ring = createRing(4096);
    const w = new RingWriter(ring);
    const plain = codec.encode(tell(tick(1)));
    const records = new RecordEncoder(w);
    const recorded = codec.encode(tell(tick(1)), records);
    expect(recorded).to.be.lessThan(plain);
    expect(records.size).to.equal(1);
    const send = sender(ring);
    const nested = { order: tick(2), legs: [tick(3), tick(4)], note: null, n: 100 };
    send(nested);
    expect(receiver(ring)()).to.deep.equal([nested]);
  });

  it('a receiver restarted mid-stream decodes every later frame, including those written before the restart', () => {
    const ring = createRing(64 * 1024);
    const send = sender(ring);
    for (let i = 0; i < 10; i++) send(tick(i));
    const first = receiver(ring);
    expect(first(4)).to.deep.equal([0, 1, 2, 3].map(tick));
    // The receiving thread dies; frames 4..9 were written under structures it had loaded.
    for (let i = 10; i < 15; i++) send({ ...tick(i), extra: true }); // a new shape, after the old reader is gone
    const second = receiver(ring);
    const got = second();
    expect(got).to.deep.equal([...[4, 5, 6, 7, 8, 9].map(tick), ...[10, 11, 12, 13, 14].map((i) => ({ ...tick(i), extra: true }))]);
  });

  it('a sender restarted on the same ring goes on numbering where the last one stopped', () => {
    const ring = createRing(64 * 1024);
    const rx = receiver(ring);
    const before = sender(ring);
    before(tick(1));
    before({ a: 1 });
    expect(rx()).to.deep.equal([tick(1), { a: 1 }]);
    const after = sender(ring); // the sending thread restarted; frames of both may sit in the ring
    after({ a: 2 });
    after({ b: 'new shape' });
    after(tick(2));
    expect(rx()).to.deep.equal([{ a: 2 }, { b: 'new shape' }, tick(2)]);
    const w = new RingWriter(ring);
    expect(new RecordEncoder(w).size).to.equal(3); // tick, {a}, {b}: no shape defined twice
  });

  it('past the table or the dictionary area, objects go as maps and still decode', () => {
    const ring = createRing(64 * 1024, 128);
    const send = sender(ring);
    const shapes = Array.from({ length: MAX_SHARED_STRUCTURES + 8 }, (_, i) => ({ [`key${i}`]: i, long_key_name_to_fill_the_area: i }));
    for (const s of shapes) send(s);
    expect(receiver(ring)()).to.deep.equal(shapes);
    const table = new RecordEncoder(new RingWriter(ring));
    expect(table.size).to.be.greaterThan(0).and.lessThan(shapes.length);
    const unlimited = createRing(64 * 1024);
    const send2 = sender(unlimited);
    for (const s of shapes) send2(s);
    expect(receiver(unlimited)()).to.deep.equal(shapes);
    expect(new RecordEncoder(new RingWriter(unlimited)).size).to.equal(MAX_SHARED_STRUCTURES);
  });

  it('a ring with no dictionary area sends maps', () => {
    const ring = createRing(4096, 0);
    const send = sender(ring);
    send(tick(1));
    expect(receiver(ring)()).to.deep.equal([tick(1)]);
    expect(new RecordEncoder(new RingWriter(ring)).size).to.equal(0);
  });

  it('reads integers 64..127 right in a self-contained frame read by a ring with records', () => {
    const ring = createRing(4096);
    sender(ring)(tick(1)); // the ring has structure 0 (0x40) now
    const w = new RingWriter(ring);
    const codec = new Codec();
    codec.encode(tell([64, 65, 100, 127, { sym: 'x', px: 1, seq: 64 }]));
    w.tryWrite(codec.encoded.subarray(codec.encodedStart, codec.encodedEnd));
    expect(receiver(ring)()).to.deep.equal([tick(1), [64, 65, 100, 127, { sym: 'x', px: 1, seq: 64 }]]);
  });

  it('refuses a record id its ring does not hold: a DecodeError, not a number read in its place', () => {
    const ring = createRing(4096);
    const r = new RingReader(ring);
    // [records | normal, 'a', 0, <record 0x45>], and the ring's table is empty
    const bytes = Buffer.from([0x94, 0x20 | (2 << 3), 0xa1, 0x61, 0x00, 0x45, 0x01]);
    const codec = new Codec();
    const records = new RecordDecoder(r, { copyBuffers: true, mapsAsObjects: true });
    expect(() => codec.decode(bytes, 0, bytes.length, 'risk', records)).to.throw(DecodeError, /record structure 5 is not defined in this ring/);
    expect(() => codec.decode(Buffer.from([0x94, 0x20 | (2 << 3), 0xa1, 0x61, 0x00, 0x65]), 0, 6, 'risk', records)).to.throw(DecodeError, /not defined/);
  });

  it('never lets a structure set a prototype', () => {
    const ring = createRing(4096);
    const send = sender(ring);
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object;
    send(payload);
    send(payload);
    send(payload);
    send(payload); // past msgpackr's threshold for a compiled reader
    for (const got of receiver(ring)() as Record<string, unknown>[]) {
      expect(Object.getPrototypeOf(got)).to.equal(Object.prototype);
      expect((got as { polluted?: unknown }).polluted).to.equal(undefined);
      expect(got.ok).to.equal(1);
    }
    expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
  });

  it('a corrupt dictionary area fails the frames that need it, as DecodeErrors', () => {
    const ring = createRing(4096);
    const send = sender(ring);
    send(tick(1));
    new RingWriter(ring).dict.writeUInt16LE(60_000, 0); // the first entry now claims 60000 keys
    const codec = new Codec();
    const r = new RingReader(ring);
    r.next();
    expect(() => codec.decode(r.bytes, r.offset, r.length, 'risk', new RecordDecoder(r, { copyBuffers: true, mapsAsObjects: true }))).to.throw(DecodeError);
  });

  it('recovers a refused frame as self-contained bytes: its header, and records spelled out as maps', () => {
    const ring = createRing(4096);
    const codec = new Codec();
    const w = new RingWriter(ring);
    const enc = new RecordEncoder(w);
    const env: Envelope = { kind: 'ask', from: 'strategy', to: 'risk', id: 9, payload: { op: 'count', id: 7, blob: new Map([[{ id: 7 }, 'x']]) } };
    writeEnvelope(w, codec, env, enc);
    const r = new RingReader(ring);
    r.next();
    const records = new RecordDecoder(r, { copyBuffers: true, mapsAsObjects: true });
    expect(() => codec.decode(r.bytes, r.offset, r.length, 'risk', records)).to.throw(DecodeError);
    const { header, raw } = codec.recover(r.bytes, r.offset, r.length, records);
    expect(header).to.deep.equal({ kind: 'ask', from: 'strategy', id: 9 });
    // Readable away from the ring, by any msgpack reader.
    const plain = new Unpackr({ useRecords: false, mapsAsObjects: false }).unpack(raw) as unknown[];
    expect(plain[1]).to.equal('strategy');
    expect((plain[3] as Map<string, unknown>).get('id')).to.equal(7);
  });
});
