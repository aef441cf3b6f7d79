import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { createRecorder, readRecorder, RecorderWriter } from '../../src/liveness/recorder.js';

/** The block's layout (src/liveness/recorder.ts): a 16-byte header (WRITTEN its first Int32), then entries of 40 bytes, their seal the Int32 at byte 20. */
const sealIndex = (entry: number): number => (16 + entry * 40 + 20) >> 2;
const packed = (v: unknown): Buffer => new Packr({ useRecords: false }).pack(v);

describe('flight recorder block (shared memory, one writer)', () => {
  it('keeps the last entries in order once it wraps, with each field as written', () => {
    const b = createRecorder(3)!;
    const w = new RecorderWriter(b, 7);
    for (let i = 0; i < 5; i++) {
      w.begin(i % 2 ? 'ask' : 'tell', i === 4 ? 'high' : undefined, `s${i}`, i === 3 ? 'market.AAPL' : undefined, 100 + i, 1000 + i);
      if (i < 4) w.end(i / 2);
    }
    expect(readRecorder(b)).to.deep.equal([
      { kind: 'tell', priority: 'normal', from: 's2', bytes: 102, incarnation: 7, at: 1002, handlerMs: 1 },
      { kind: 'ask', priority: 'normal', from: 's3', topic: 'market.AAPL', bytes: 103, incarnation: 7, at: 1003, handlerMs: 1.5 },
      { kind: 'tell', priority: 'high', from: 's4', bytes: 104, incarnation: 7, at: 1004, handlerMs: null },
    ]);
  });

  it('a next incarnation goes on with the same names; a full name table or a long name loses nothing else', () => {
    const b = createRecorder(600)!;
    const first = new RecorderWriter(b, 1);
    first.begin('tell', undefined, 'risk', undefined, 1, 1);
    const next = new RecorderWriter(b, 2);
    next.begin('tell', undefined, 'risk', undefined, 1, 2);
    const long = 'é'.repeat(40); // 80 bytes of UTF-8: cut to whole characters under 64 bytes
    next.begin('tell', undefined, long, undefined, 1, 3);
    for (let i = 0; i < 300; i++) next.begin('tell', undefined, `sender-${i}`, undefined, 1, 4);
    const all = readRecorder(b);
    expect(all[0]).to.include({ from: 'risk', incarnation: 1 });
    expect(all[1]).to.include({ from: 'risk', incarnation: 2 });
    expect(all[2]!.from).to.equal('é'.repeat(31));
    // 256 names in all: 'risk', the long one, then 254 senders; the rest are not named.
    expect(all.slice(3).filter((m) => m.from !== null)).to.have.length(254);
    expect(all.at(-1)).to.include({ from: null, bytes: 1 });
  });

  it('is none with 0 entries, and refuses a size out of range', () => {
    expect(createRecorder(0)).to.equal(null);
    expect(createRecorder({ messages: 0, payloadBytes: 64 })).to.equal(null);
    expect(readRecorder(null)).to.deep.equal([]);
    expect(() => createRecorder(-1)).to.throw(/flightRecorder must be a whole number of entries from 0 to 4096, got -1/);
    expect(() => createRecorder(4097)).to.throw(/4096/);
    expect(() => createRecorder({ messages: 1.5 })).to.throw(/flightRecorder\.messages must be a whole number of entries from 0 to 4096, got 1\.5/);
    expect(() => createRecorder({ payloadBytes: 4097 })).to.throw(/flightRecorder\.payloadBytes must be a whole number of bytes from 0 to 4096, got 4097/);
  });

  it('keeps no payload by default, nor with payloadBytes 0', () => {
    for (const b of [createRecorder(2)!, createRecorder({ messages: 2, payloadBytes: 0 })!, createRecorder({})!]) {
      new RecorderWriter(b, 1).begin('tell', undefined, 'a', undefined, 10, 1, { secret: 'x' });
      expect(readRecorder(b)[0]).to.not.have.property('payload');
    }
    expect(new Int32Array(createRecorder({})!)[1], 'messages default to 32').to.equal(32);
  });

  it('keeps a payload whole when its encoding fits, and the first bytes of a longer one with its size', () => {
    const b = createRecorder({ messages: 4, payloadBytes: 16 })!;
    const w = new RecorderWriter(b, 1);
    const long = { op: 'fill', note: 'a'.repeat(40) };
    w.begin('tell', undefined, 'a', undefined, 10, 1, { op: 'buy', qty: 3 });
    w.begin('ask', undefined, 'a', undefined, 10, 2, long);
    w.begin('tell', undefined, 'a', undefined, 10, 3, 2n ** 62n);
    w.begin('tell', undefined, 'a', undefined, 10, 4, undefined);
    const [whole, cut, big, none] = readRecorder(b);
    expect(whole!.payload).to.deep.equal({ op: 'buy', qty: 3 });
    const all = packed(long);
    expect(cut!.payload).to.deep.equal({ truncated: true, bytes: all.subarray(0, 16).toString('base64'), size: all.length });
    expect(big!.payload, 'a 64-bit integer reads as a string').to.equal('4611686018427387904');
    expect(none!.payload).to.equal(null);
    expect(JSON.parse(JSON.stringify(readRecorder(b)))).to.deep.equal(readRecorder(b));
  });

  it('decodes a kept payload without letting it choose a prototype', () => {
    const b = createRecorder({ messages: 1, payloadBytes: 256 })!;
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object;
    new RecorderWriter(b, 1).begin('tell', undefined, 'a', undefined, 10, 1, hostile);
    const p = readRecorder(b)[0]!.payload as Record<string, unknown>;
    expect(Object.getPrototypeOf(p)).to.equal(Object.prototype);
    expect(p.ok).to.equal(1);
    expect((p as { polluted?: unknown }).polluted).to.equal(undefined);
    expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
  });

  it('wraps with each entry its own payload (a short one over a longer one reads whole)', () => {
    const b = createRecorder({ messages: 3, payloadBytes: 32 })!;
    const w = new RecorderWriter(b, 1);
    const payloads = ['x'.repeat(30), { n: 1 }, 'y'.repeat(100), [1, 2], 'z'];
    payloads.forEach((p, k) => w.begin('tell', undefined, 'a', undefined, 10, k, p));
    const read = readRecorder(b);
    expect(read.map((m) => m.at)).to.deep.equal([2, 3, 4]);
    expect(read[0]!.payload).to.include({ truncated: true, size: packed(payloads[2]).length });
    expect(read.slice(1).map((m) => m.payload)).to.deep.equal([[1, 2], 'z']);
    // The next incarnation goes on with the same payload slots.
    new RecorderWriter(b, 2).begin('tell', undefined, 'a', undefined, 10, 5, { after: true });
    expect(readRecorder(b).map((m) => m.payload)).to.deep.equal([[1, 2], 'z', { after: true }]);
  });

  it('leaves out an entry a writer was overwriting when it stopped, and reads the rest', () => {
    const b = createRecorder({ messages: 3, payloadBytes: 8 })!;
    const w = new RecorderWriter(b, 1);
    for (let k = 0; k < 4; k++) w.begin('tell', undefined, 'a', undefined, 10, k, k);
    // A thread killed inside begin() of the fifth entry: counted (WRITTEN 5), slot 1 (entry 1's) half rewritten, not sealed.
    const i32 = new Int32Array(b);
    Atomics.store(i32, 0, 5);
    i32[sealIndex(1) - 2] = 999_999; // its frame size
    expect(readRecorder(b).map((m) => [m.at, m.payload, m.bytes])).to.deep.equal([
      [2, 2, 10],
      [3, 3, 10],
    ]);
    // The next incarnation goes on after it; the half-written one stays out until its slot is written whole again.
    const next = new RecorderWriter(b, 2);
    next.begin('tell', undefined, 'a', undefined, 10, 5, 'five');
    expect(readRecorder(b).map((m) => m.payload)).to.deep.equal([3, 'five']);
    next.begin('tell', undefined, 'a', undefined, 10, 6, 'six');
    next.begin('tell', undefined, 'a', undefined, 10, 7, 'seven');
    expect(readRecorder(b).map((m) => m.payload)).to.deep.equal(['five', 'six', 'seven']);
  });
});
