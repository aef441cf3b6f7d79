import { expect } from 'chai';
import { createDoorbell, createRing, RingReader } from '../../src/internal.js';
import { exitCode, nextMessage, WorkerSet } from './helpers.js';

interface Result {
  received: Record<number, number>;
  errors: string[];
  depth: number;
}

const RING_BYTES = 256 * 1024;

describe('ring across threads (real workers, real bytes)', function () {
  this.timeout(180_000);
  const workers = new WorkerSet();
  afterEach(() => workers.terminateAll());

  it('delivers 1,000,000 frames of 1 B..64 KiB from 3 senders to 1 receiver: every byte checked, none lost, none repeated', async () => {
    const seed = 7;
    const senders = [0, 1, 2];
    const perSender = [400_000, 350_000, 250_000];
    const doorbell = createDoorbell(4);
    const rings = senders.map((sender) => ({ slot: sender, ring: createRing(RING_BYTES), sender }));
    const expected = Object.fromEntries(senders.map((s) => [s, perSender[s]!]));
    const rx = workers.start('stress-receiver.js', { doorbell, rings, seed, expected });
    const result = nextMessage<Result>(rx, 'result');
    const txs = senders.map((sender) =>
      workers.start('stress-sender.js', { ring: rings[sender]!.ring, doorbell, slot: sender, sender, seed, count: perSender[sender] }),
    );
    await Promise.all(txs.map((tx) => nextMessage(tx, 'done')));
    const r = await result;
    expect(r.errors).to.deep.equal([]);
    expect(r.received).to.deep.equal(expected);
    expect(Object.values(r.received).reduce((a, b) => a + b, 0)).to.equal(1_000_000);
    expect(r.depth).to.equal(0);
  });

  it('keeps delivering from the others when a sender is terminated mid-stream, and loses none of its committed frames', async () => {
    const seed = 11;
    const doorbell = createDoorbell(2);
    const rings = [0, 1].map((sender) => ({ slot: sender, ring: createRing(RING_BYTES), sender }));
    const rx = workers.start('stress-receiver.js', { doorbell, rings, seed, expected: { 0: -1, 1: 200_000 } });
    const result = nextMessage<Result>(rx, 'result');
    const doomed = workers.start('stress-sender.js', { ring: rings[0]!.ring, doorbell, slot: 0, sender: 0, seed, count: -1 });
    const steady = workers.start('stress-sender.js', { ring: rings[1]!.ring, doorbell, slot: 1, sender: 1, seed, count: 200_000 });
    const steadyDone = nextMessage(steady, 'done');
    // Let the doomed sender get well into its stream, then kill it wherever it is.
    const probe = new RingReader(rings[0]!.ring);
    while (probe.stats().framesWritten < 20_000) await new Promise((r) => setTimeout(r, 5));
    await doomed.terminate();
    const committed = probe.stats().framesWritten;
    rx.postMessage({ type: 'expect', sender: 0, count: committed });
    await steadyDone;
    const r = await result;
    expect(r.errors).to.deep.equal([]);
    expect(r.received).to.deep.equal({ 0: committed, 1: 200_000 });
  });

  it('shows nothing of a frame its sender died writing; a restarted sender carries on in the same ring', async () => {
    const seed = 13;
    const doorbell = createDoorbell(1);
    const ring = createRing(RING_BYTES);
    const rx = workers.start('stress-receiver.js', { doorbell, rings: [{ slot: 0, ring, sender: 0 }], seed, expected: { 0: 3_000 } });
    const result = nextMessage<Result>(rx, 'result');
    const dying = workers.start('stress-sender.js', { ring, doorbell, slot: 0, sender: 0, seed, count: -1, dieMidWriteAfter: 1_000 });
    expect(await exitCode(dying)).to.equal(3);
    expect(new RingReader(ring).stats().framesWritten).to.equal(1_000);
    const restarted = workers.start('stress-sender.js', { ring, doorbell, slot: 0, sender: 0, seed, count: 2_000, firstSeq: 1_000 });
    await nextMessage(restarted, 'done');
    const r = await result;
    expect(r.errors).to.deep.equal([]);
    expect(r.received).to.deep.equal({ 0: 3_000 });
  });
});
