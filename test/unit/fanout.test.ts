import { expect } from 'chai';
import { Sender } from '../../src/actor/sender.js';
import { MailboxFullError, type Envelope } from '../../src/index.js';
import { Codec, createDoorbell, createRing, Inbox, Outbox, RingReader } from '../../src/internal.js';
import { MailboxGate } from '../../src/transport/mailbox.js';
import type { Lane } from '../../src/transport/protocol.js';

/** `n` receivers rx0.., each its own inbox (named by its id) with one ring from the sender; `unwired` have no ring yet. */
function receivers(n: number, options: { ringBytes?: number; unwired?: string[] } = {}) {
  const rx = Array.from({ length: n }, (_, i) => {
    const id = `rx${i}`;
    const doorbell = createDoorbell(1);
    const ring = createRing(options.ringBytes ?? 64 * 1024);
    const inbox = new Inbox(doorbell, { id, spinMicros: 0 });
    inbox.attach(0, ring);
    return { id, ring, doorbell, inbox, out: new Outbox({ to: id, lane: 'normal', slot: 0, ring, doorbell }) };
  });
  const byId = new Map(rx.map((r) => [r.id, r]));
  const unwired = new Set(options.unwired ?? []);
  const dropped: Array<[Envelope, Error]> = [];
  const source = {
    outboxIfReady: (to: string, _lane: Lane) => (unwired.has(to) ? undefined : byId.get(to)?.out),
    outbox: async (to: string, _lane: Lane) => {
      await new Promise((r) => setTimeout(r, 5)); // the ring arrives later, as from the main thread
      unwired.delete(to);
      return byId.get(to)!.out;
    },
  };
  const sender = new Sender(source, new Codec(), (env, err) => dropped.push([env, err]), 1000);
  return { rx, sender, dropped };
}

const published = (payload: unknown): Envelope => ({ kind: 'tell', from: 'pub', to: 'prices.btc', id: 0, payload, topic: 'prices.btc' });

function drain(inbox: Inbox): Envelope[] {
  const got: Envelope[] = [];
  inbox.drain(Infinity, (env) => got.push(env));
  return got;
}

describe('fan-out: one encode, the same bytes in every ring', () => {
  it('writes identical frames to each subscriber, and each decodes it with its own `to`', () => {
    const { rx, sender } = receivers(3);
    const msg = { sym: 'BTCUSD', px: 64123.5, seq: 1 };
    sender.sendToEach(published(msg), rx.map((r) => r.id));
    const frames = rx.map((r) => {
      const reader = new RingReader(r.ring);
      expect(reader.next()).to.equal(true);
      return Buffer.from(reader.bytes.subarray(reader.offset, reader.offset + reader.length)).toString('hex');
    });
    expect(new Set(frames).size).to.equal(1);
    for (const r of rx) {
      const [env, ...more] = drain(r.inbox);
      expect(more).to.have.length(0);
      expect(env).to.deep.equal({ kind: 'tell', priority: 'normal', from: 'pub', to: r.id, id: 0, payload: msg, topic: 'prices.btc' });
    }
  });

  it('leaves the ring records of a send alone: a publish and a send to the same ring both decode', () => {
    const { rx, sender } = receivers(2);
    const shape = (seq: number): object => ({ sym: 'ETH', seq });
    sender.send({ kind: 'tell', from: 'pub', to: 'rx0', id: 0, payload: shape(1) }); // a record of rx0's ring
    sender.sendToEach(published(shape(2)), ['rx0', 'rx1']); // self-contained
    sender.send({ kind: 'tell', from: 'pub', to: 'rx0', id: 0, payload: shape(3) });
    expect(drain(rx[0]!.inbox).map((e) => e.payload)).to.deep.equal([shape(1), shape(2), shape(3)]);
    expect(drain(rx[1]!.inbox).map((e) => e.payload)).to.deep.equal([shape(2)]);
  });

  it('a subscriber whose mailbox refuses gets a dead letter naming it; the others still get the message', () => {
    const { rx, sender, dropped } = receivers(3);
    new MailboxGate(rx[1]!.doorbell).configure({ capacity: 1, overflow: 'fail', waitMs: 0 });
    sender.sendToEach(published('one'), rx.map((r) => r.id));
    expect(() => sender.sendToEach(published('two'), rx.map((r) => r.id))).to.not.throw();
    expect(dropped.map(([e, err]) => [e.to, e.payload, (err as MailboxFullError).policy])).to.deep.equal([['rx1', 'two', 'fail']]);
    expect(drain(rx[0]!.inbox).map((e) => e.payload)).to.deep.equal(['one', 'two']);
    expect(drain(rx[1]!.inbox).map((e) => e.payload)).to.deep.equal(['one']);
    expect(drain(rx[2]!.inbox).map((e) => e.payload)).to.deep.equal(['one', 'two']);
  });

  it('queues for a subscriber not wired yet or whose ring is full, and delivers there later, in order, with its own `to`', async () => {
    const { rx, sender, dropped } = receivers(3, { ringBytes: 256, unwired: ['rx2'] });
    for (let i = 0; i < 12; i++) sender.sendToEach(published(i), rx.map((r) => r.id));
    expect(sender.queued).to.be.greaterThan(0);
    const got: Envelope[][] = rx.map(() => []);
    while (got.some((g) => g.length < 12)) {
      rx.forEach((r, i) => got[i]!.push(...drain(r.inbox)));
      await new Promise((r) => setTimeout(r, 1));
    }
    await sender.idle();
    expect(dropped).to.have.length(0);
    rx.forEach((r, i) => {
      expect(got[i]!.map((e) => e.payload)).to.deep.equal([...Array(12).keys()]);
      expect(new Set(got[i]!.map((e) => e.to))).to.deep.equal(new Set([r.id]));
    });
  });
});

describe('an unbounded mailbox', () => {
  it('counts nothing on admit and release, its depth is the rings’, and a bound set later starts from that depth', () => {
    const { rx, sender } = receivers(1);
    const { inbox, doorbell } = rx[0]!;
    const gate = new MailboxGate(doorbell);
    for (let i = 0; i < 5; i++) sender.send({ kind: 'tell', from: 'tx', to: 'rx0', id: 0, payload: i });
    expect(gate.pending).to.equal(0);
    expect(inbox.depth()).to.equal(5);
    const first = inbox.nextMail()!;
    inbox.releaseMail();
    expect(first.payload).to.equal(0);
    expect([gate.pending, inbox.depth()]).to.deep.equal([0, 4]);
    gate.configure({ capacity: 6, overflow: 'fail', waitMs: 0 }, inbox.depth('normal'));
    expect(gate.pending).to.equal(4);
    sender.send({ kind: 'tell', from: 'tx', to: 'rx0', id: 0, payload: 5 });
    sender.send({ kind: 'tell', from: 'tx', to: 'rx0', id: 0, payload: 6 });
    expect(() => sender.send({ kind: 'tell', from: 'tx', to: 'rx0', id: 0, payload: 7 })).to.throw(MailboxFullError);
    expect(drain(inbox).map((e) => e.payload)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect([gate.pending, inbox.depth()]).to.deep.equal([0, 0]);
  });
});
