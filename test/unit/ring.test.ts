import { expect } from 'chai';
import { InvalidOptionError, MessageTooLargeError, NotOnMainThreadError, RingCorruptError } from '../../src/index.js';
import { createDoorbell, createRing, Doorbell, frameBytes, RingReader, RingWriter } from '../../src/internal.js';
import { READ_POS, RING_HEADER_BYTES, WRITE_POS } from '../../src/ring/layout.js';
import { REWIND_AFTER_BYTES } from '../../src/ring/writer.js';
import { reuseRing, setConsumerClosed } from '../../src/ring/ring.js';

function bytes(len: number, fill: number): Uint8Array {
  return new Uint8Array(len).fill(fill & 0xff);
}

function readAll(r: RingReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  r.drain(Infinity, (b, o, l) => out.push(Uint8Array.prototype.slice.call(b, o, o + l)));
  return out;
}

describe('ring', () => {
  describe('createRing', () => {
    it('rejects a capacity that is not a power of two, naming the field', () => {
      expect(() => createRing(1000)).to.throw(InvalidOptionError, /ring\.capacityBytes must be a power of two.*got 1000/);
      expect(() => createRing(32)).to.throw(InvalidOptionError);
    });

    it('refuses a buffer that is not a ring', () => {
      expect(() => new RingReader(new SharedArrayBuffer(4096))).to.throw(InvalidOptionError, /capacity/);
    });
  });

  describe('reuseRing', () => {
    it('readies a drained ring of the same size for a new producer, who writes on where the last one stopped; refuses one with unread frames or of another size', () => {
      const ring = createRing(1024);
      const w = new RingWriter(ring);
      expect(w.tryWrite(new Uint8Array([1, 2, 3]))).to.equal('written');
      expect(reuseRing(ring, 1024), 'unread frame').to.equal(false);
      const r = new RingReader(ring);
      expect(r.next()).to.equal(true);
      r.commit();
      setConsumerClosed(ring, true);
      expect(reuseRing(ring, 2048), 'another size').to.equal(false);
      expect(reuseRing(ring, 1024)).to.equal(true);
      const next = new RingWriter(ring);
      expect(next.closed, 'the closed flag is cleared').to.equal(false);
      expect(next.tryWrite(new Uint8Array([9]))).to.equal('written');
      expect(r.next()).to.equal(true);
      expect([...r.bytes.subarray(r.offset, r.offset + r.length)]).to.deep.equal([9]);
    });
  });

  describe('frames', () => {
    it('reads nothing from an empty ring', () => {
      const r = new RingReader(createRing(1024));
      expect(r.next()).to.equal(false);
      expect(readAll(r)).to.deep.equal([]);
    });

    it('says where its oldest uncommitted frame starts: the read position it last published, picked up by a new reader', () => {
      const sab = createRing(1024);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      for (const len of [10, 20]) expect(w.tryWrite(bytes(len, len))).to.equal('written');
      expect(r.committed).to.equal(0);
      expect(r.next()).to.equal(true);
      expect(r.committed).to.equal(0); // handed out, not committed
      r.commit();
      const hdr = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
      expect(r.committed).to.equal(frameBytes(10)).and.to.equal(Atomics.load(hdr, READ_POS));
      expect(r.next()).to.equal(true);
      expect(new RingReader(sab).committed).to.equal(frameBytes(10)); // the next reader starts at the frame not committed
    });

    it('delivers frames intact and in order, including empty ones', () => {
      const sab = createRing(1024);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      for (const len of [0, 1, 7, 8, 9, 100]) expect(w.tryWrite(bytes(len, len))).to.equal('written');
      const got = readAll(r);
      expect(got.map((g) => g.length)).to.deep.equal([0, 1, 7, 8, 9, 100]);
      for (const g of got) expect(g.every((b) => b === g.length)).to.equal(true);
    });

    it('fills to the exact byte, reports full, and takes a frame again once one is read', () => {
      const sab = createRing(256);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      // 256 bytes = 8 frames of 24 payload bytes (8 header + 24 = 32 each).
      for (let i = 0; i < 8; i++) expect(w.tryWrite(bytes(24, i))).to.equal('written');
      expect(w.stats().usedBytes).to.equal(256);
      expect(w.tryWrite(bytes(0, 0))).to.equal('full');
      expect(w.stats().fullEvents).to.equal(1);
      expect(r.next()).to.equal(true);
      r.commit();
      expect(w.tryWrite(bytes(24, 9))).to.equal('written');
      expect(w.tryWrite(bytes(0, 0))).to.equal('full');
      const got = readAll(r);
      expect(got.map((g) => g[0])).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 9]);
    });

    it('wraps a frame that does not fit before the end to the start', () => {
      const sab = createRing(512);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      expect(w.tryWrite(bytes(200, 1))).to.equal('written'); // 0..208
      expect(w.tryWrite(bytes(200, 1))).to.equal('written'); // 208..416
      expect(readAll(r)).to.have.length(2);
      // 96 bytes left before the end: a 100-byte frame (112) goes to offset 0.
      expect(w.tryWrite(bytes(100, 2))).to.equal('written');
      const got = readAll(r);
      expect(got).to.have.length(1);
      expect(got[0]!.length).to.equal(100);
      expect(got[0]!.every((b) => b === 2)).to.equal(true);
    });

    it('goes back to the start once the ring is empty past REWIND_AFTER_BYTES, so a ring that keeps up stays in its first pages', () => {
      const sab = createRing(256 * 1024);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      const hdr = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
      let highest = 0;
      for (let i = 0; i < 10_000; i++) {
        expect(w.tryWrite(bytes(100, i))).to.equal('written');
        highest = Math.max(highest, (hdr[WRITE_POS]! & (256 * 1024 - 1)) || 256 * 1024);
        const got = readAll(r);
        expect(got.length).to.equal(1);
        expect(got[0]!.every((b) => b === (i & 0xff))).to.equal(true);
      }
      // 10,000 frames of 112 bytes would have gone round the ring 4 times.
      expect(highest).to.be.at.most(REWIND_AFTER_BYTES + frameBytes(100));
    });

    it('does not go back while frames are unread, keeps their order when it does, and never rewinds a small ring', () => {
      const cap = 4 * REWIND_AFTER_BYTES;
      const sab = createRing(cap);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      const hdr = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
      const frame = frameBytes(1000);
      const n = Math.ceil(REWIND_AFTER_BYTES / frame) + 2; // past the rewind point with all of them unread
      for (let i = 0; i < n; i++) expect(w.tryWrite(bytes(1000, i))).to.equal('written');
      expect(hdr[WRITE_POS]! & (cap - 1)).to.equal(n * frame);
      expect(readAll(r).map((f) => f[0])).to.deep.equal(Array.from({ length: n }, (_, i) => i));
      // Empty now: back to offset 0 within a few frames (it looks at the consumer's line once per 4 KiB while frames are unread).
      const order: number[] = [];
      let k = 0;
      for (; k < 8 && (hdr[WRITE_POS]! & (cap - 1)) >= REWIND_AFTER_BYTES; k++) {
        expect(w.tryWrite(bytes(1000, 200 + k))).to.equal('written');
        order.push(...readAll(r).map((f) => f[0]!));
      }
      expect(hdr[WRITE_POS]! & (cap - 1)).to.equal(frame);
      expect(k).to.be.at.most(Math.ceil(4096 / frame) + 1);
      expect(order).to.deep.equal(Array.from({ length: k }, (_, i) => 200 + i));

      const small = createRing(cap / 2);
      const sw = new RingWriter(small);
      const sr = new RingReader(small);
      const sh = new Int32Array(small, 0, RING_HEADER_BYTES / 4);
      for (let i = 0; i < n; i++) {
        expect(sw.tryWrite(bytes(1000, i))).to.equal('written');
        expect(readAll(sr)).to.have.length(1);
      }
      expect(sh[WRITE_POS]! & (cap / 2 - 1)).to.equal(n * frame);
    });

    it('counts the space lost to a wrap when deciding the ring is full', () => {
      const sab = createRing(256);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      w.tryWrite(bytes(100, 1)); // 0..112
      w.tryWrite(bytes(100, 2)); // 112..224
      expect(r.next()).to.equal(true);
      r.commit(); // 144 bytes free: 32 at the end, 112 at the start
      expect(w.tryWrite(bytes(105, 3))).to.equal('full'); // 120 bytes do not fit in one piece
      expect(w.tryWrite(bytes(104, 4))).to.equal('written'); // 112 fit exactly after the wrap
      expect(w.tryWrite(bytes(0, 5))).to.equal('full');
      expect(readAll(r).map((g) => [g[0], g.length])).to.deep.equal([[2, 100], [4, 104]]);
    });

    it('takes the largest frame the capacity allows and refuses one byte more', () => {
      const sab = createRing(1024);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      expect(w.maxPayload).to.equal(1024 / 2 - 8);
      for (let i = 0; i < 5; i++) {
        expect(w.tryWrite(bytes(w.maxPayload, i))).to.equal('written');
        expect(readAll(r)[0]!.length).to.equal(w.maxPayload);
      }
      expect(() => w.tryWrite(bytes(w.maxPayload + 1, 0))).to.throw(MessageTooLargeError, /505 bytes exceeds the limit of 504/);
    });

    it('keeps working when the position counters pass 2^32', () => {
      const sab = createRing(256);
      const hdr = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
      hdr[WRITE_POS] = -96; // 2^32 - 96 as an unsigned position
      hdr[READ_POS] = -96;
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      for (let i = 0; i < 100; i++) {
        expect(w.tryWrite(bytes(i % 50, i))).to.equal('written');
        expect(w.tryWrite(bytes(30, i + 1))).to.equal('written');
        const got = readAll(r);
        expect(got.map((g) => g.length)).to.deep.equal([i % 50, 30]);
        expect(got[1]!.every((b) => b === ((i + 1) & 0xff))).to.equal(true);
      }
    });
  });

  describe('corruption', () => {
    function corruptRing(): { sab: SharedArrayBuffer; data: Int32Array } {
      const sab = createRing(256);
      new RingWriter(sab).tryWrite(bytes(16, 1));
      return { sab, data: new Int32Array(sab, RING_HEADER_BYTES) };
    }

    it('raises RingCorruptError for a length out of range, every time, without reading past the buffer', () => {
      const { sab, data } = corruptRing();
      data[0] = 1 << 30;
      data[1] = (1 << 30) ^ 0x5a3c96e1;
      const r = new RingReader(sab);
      expect(() => r.next()).to.throw(RingCorruptError, /claims 1073741824 bytes/);
      expect(() => r.next()).to.throw(RingCorruptError);
    });

    it('raises RingCorruptError when the check word disagrees', () => {
      const { sab, data } = corruptRing();
      data[0] = 12;
      expect(() => new RingReader(sab).next()).to.throw(RingCorruptError, /check word/);
    });

    it('raises RingCorruptError for a frame running past what was published', () => {
      const { sab, data } = corruptRing();
      data[0] = 64;
      data[1] = 64 ^ 0x5a3c96e1;
      const err = (() => {
        try {
          new RingReader(sab).next();
        } catch (e) {
          return e as RingCorruptError;
        }
        return null;
      })();
      expect(err).to.be.instanceOf(RingCorruptError);
      expect(err!.code).to.equal('ERR_RING_CORRUPT');
      expect(err!.offset).to.equal(0);
    });
  });

  describe('release and redelivery', () => {
    it('leaves the frame a handler threw on in the ring and releases the ones before it', () => {
      const sab = createRing(1024);
      const w = new RingWriter(sab);
      for (let i = 0; i < 4; i++) w.tryWrite(bytes(4, i));
      const r = new RingReader(sab);
      const seen: number[] = [];
      expect(() =>
        r.drain(10, (b, o) => {
          if (b[o] === 2) throw new Error('handler failed');
          seen.push(b[o]!);
        }),
      ).to.throw('handler failed');
      expect(seen).to.deep.equal([0, 1]);
      expect(r.depth()).to.equal(2);
      expect(readAll(r).map((g) => g[0])).to.deep.equal([2, 3]);
    });

    it('hands frames that were never committed to the next reader of the same buffer', () => {
      const sab = createRing(1024);
      const w = new RingWriter(sab);
      for (let i = 0; i < 3; i++) w.tryWrite(bytes(4, i));
      const first = new RingReader(sab);
      expect(first.next()).to.equal(true);
      first.commit();
      expect(first.next()).to.equal(true); // in flight when its thread "dies"
      const second = new RingReader(sab);
      expect(readAll(second).map((g) => g[0])).to.deep.equal([1, 2]);
    });

    it('shows nothing of a frame reserved but never committed, and a new writer resumes cleanly', () => {
      const sab = createRing(1024);
      const dead = new RingWriter(sab);
      dead.tryWrite(bytes(4, 7));
      const off = dead.reserve(100);
      new Uint8Array(sab, RING_HEADER_BYTES + off, 50).fill(0xee); // dies half-way
      const r = new RingReader(sab);
      expect(readAll(r).map((g) => g[0])).to.deep.equal([7]);
      const next = new RingWriter(sab);
      expect(next.tryWrite(bytes(10, 8))).to.equal('written');
      expect(readAll(r).map((g) => [g[0], g.length])).to.deep.equal([[8, 10]]);
    });
  });

  describe('close and waiting for space', () => {
    it("reports 'closed' to the producer once the consumer closes", () => {
      const sab = createRing(256);
      const w = new RingWriter(sab);
      new RingReader(sab).close();
      expect(w.tryWrite(bytes(1, 1))).to.equal('closed');
    });

    it('lets the consumer read what was written before the producer closed', () => {
      const sab = createRing(256);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      w.tryWrite(bytes(3, 3));
      w.close();
      expect(r.drained).to.equal(false);
      expect(readAll(r)).to.have.length(1);
      expect(r.drained).to.equal(true);
    });

    it('resolves waitForSpaceAsync when the consumer frees room', async () => {
      const sab = createRing(256);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      while (w.tryWrite(bytes(50, 1)) === 'written');
      const waiting = w.waitForSpaceAsync(50, 10_000);
      setTimeout(() => readAll(r), 20);
      expect(await waiting).to.equal('space');
      expect(await w.writeAsync(bytes(50, 2), 1000)).to.equal('written');
    });

    it('times out waitForSpaceAsync, and wakes it on close', async () => {
      const sab = createRing(256);
      const w = new RingWriter(sab);
      const r = new RingReader(sab);
      while (w.tryWrite(bytes(50, 1)) === 'written');
      expect(await w.waitForSpaceAsync(50, 30)).to.equal('timed-out');
      const waiting = w.waitForSpaceAsync(50, 10_000);
      setTimeout(() => r.close(), 20);
      expect(await waiting).to.equal('closed');
    });

    it('refuses to block the main thread', () => {
      const w = new RingWriter(createRing(256));
      expect(() => w.waitForSpace(1, 10)).to.throw(NotOnMainThreadError);
      expect(() => new Doorbell(createDoorbell(1)).park(10)).to.throw(NotOnMainThreadError);
    });
  });

  it('frameBytes pads to 8 and adds the header', () => {
    expect([0, 1, 8, 9].map(frameBytes)).to.deep.equal([8, 16, 16, 24]);
  });

  it('wakes a producer waiting at a full ring once half of it is free, not after every frame', async () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const frame = new Uint8Array(56); // 64 bytes with its header: 64 frames fill the ring
    let written = 0;
    while (w.tryWrite(frame) === 'written') written++;
    expect(written).to.equal(64);
    let woken = false;
    const waiting = w.waitForSpaceAsync(frame.length, 10_000).then((s) => {
      woken = true;
      return s;
    });
    const readOne = async (): Promise<void> => {
      expect(r.next()).to.equal(true);
      r.commit();
      await new Promise((res) => setImmediate(res));
    };
    for (let i = 0; i < 31; i++) await readOne();
    expect(woken, 'woken with less than half the ring free').to.equal(false);
    await readOne();
    expect(await waiting).to.equal('space');
    expect(woken).to.equal(true);
  });
});
