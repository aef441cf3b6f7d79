import { expect } from 'chai';
import fc from 'fast-check';
import { createRing, frameBytes, RingReader, RingWriter } from '../../src/internal.js';
import { READ_POS, RING_HEADER_BYTES, WRITE_POS } from '../../src/ring/layout.js';

type Op = { write: number } | { read: number } | { rewind: true };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.nat({ max: 600 }).map((n) => ({ write: n })) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => ({ read: n })) },
  { weight: 1, arbitrary: fc.constant({ rewind: true as const }) },
);

/** Deterministic bytes of frame number `seq`, so any mix-up shows. */
function payload(seq: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seq * 31 + i * 7) & 0xff;
  return b;
}

describe('ring (property: behaves like a bounded FIFO of byte strings)', () => {
  it('matches a model queue under random writes, reads and rewinds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(256, 512, 1024, 4096),
        fc.constantFrom(0, -4096, 2 ** 31 - 512),
        fc.array(op, { maxLength: 300 }),
        (capacity, start, ops) => {
          const sab = createRing(capacity);
          const hdr = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
          hdr[WRITE_POS] = start; // exercise the 2^31 / 2^32 wrap of the position counters
          hdr[READ_POS] = start;
          const w = new RingWriter(sab);
          const r = new RingReader(sab);
          const model: Array<{ seq: number; len: number }> = [];
          let used = 0; // bytes the model says are in use, wrap padding excluded
          let seq = 0;
          for (const o of ops) {
            if ('write' in o) {
              const len = Math.min(o.write, w.maxPayload);
              const res = w.tryWrite(payload(seq, len));
              if (res === 'written') {
                model.push({ seq, len });
                used += frameBytes(len);
                seq++;
              } else {
                expect(res).to.equal('full');
                // An empty ring takes any frame up to maxPayload, wherever its positions stand;
                // a fuller one may refuse only when the frame and the bytes in use exceed it.
                expect(model.length).to.be.greaterThan(0);
                expect(used + frameBytes(len) + frameBytes(len)).to.be.greaterThan(capacity - w.maxPayload - 8);
              }
            } else if ('read' in o) {
              for (let k = 0; k < o.read; k++) {
                const has = r.next();
                expect(has).to.equal(model.length > 0);
                if (!has) break;
                const want = model.shift()!;
                used -= frameBytes(want.len);
                expect(r.length).to.equal(want.len);
                expect(Buffer.compare(r.bytes.subarray(r.offset, r.offset + r.length), payload(want.seq, want.len))).to.equal(0);
              }
              r.commit();
            } else {
              // A reader that takes a frame and puts it back must see it again.
              if (r.next()) {
                const len = r.length;
                r.rewind();
                expect(r.next()).to.equal(true);
                expect(r.length).to.equal(len);
                r.rewind();
              }
            }
            expect(r.depth()).to.equal(model.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
