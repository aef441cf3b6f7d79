import { expect } from 'chai';
import { createRecorder, readRecorder, RecorderWriter } from '../../src/liveness/recorder.js';

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
    expect(readRecorder(null)).to.deep.equal([]);
    expect(() => createRecorder(-1)).to.throw(/flightRecorder must be a whole number of entries from 0 to 4096, got -1/);
    expect(() => createRecorder(4097)).to.throw(/4096/);
  });
});
