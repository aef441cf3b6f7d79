import { expect } from 'chai';
import { Sender } from '../../src/actor/sender.js';
import { MailboxFullError, type Envelope } from '../../src/index.js';
import { Codec, createDoorbell, createRing, Inbox, Outbox } from '../../src/internal.js';
import { MailboxGate } from '../../src/transport/mailbox.js';
import type { Lane } from '../../src/transport/protocol.js';

/** One receiver with a ring per lane from one sender, and a Sender writing through them. */
function wired(capacity = 0, overflow: 'backpressure' | 'drop-newest' | 'drop-oldest' | 'fail' = 'backpressure') {
  const doorbell = createDoorbell(8);
  const shed: Envelope[] = [];
  const inbox = new Inbox(doorbell, { spinMicros: 0, onShed: (env) => shed.push(env) });
  new MailboxGate(doorbell).configure({ capacity, overflow, waitMs: 50 });
  const outs = new Map<Lane, Outbox>();
  (['system', 'high', 'normal', 'reply'] as const).forEach((lane, slot) => {
    const ring = createRing(64 * 1024);
    inbox.attach(slot, ring, lane);
    outs.set(lane, new Outbox({ to: 'rx', lane, slot, ring, doorbell }));
  });
  const dropped: Array<[Envelope, Error]> = [];
  const codec = new Codec();
  const source = { outboxIfReady: (_to: string, lane: Lane) => outs.get(lane), outbox: async (_to: string, lane: Lane) => outs.get(lane)! };
  const sender = new Sender(source, codec, (env, err) => dropped.push([env, err]), 1000);
  return { inbox, sender, dropped, shed, gate: new MailboxGate(doorbell) };
}

const tell = (n: number, priority?: 'system' | 'high' | 'normal'): Envelope => ({ kind: 'tell', from: 'tx', to: 'rx', id: 0, payload: n, priority });

function takeAll(inbox: Inbox): unknown[] {
  const got: unknown[] = [];
  for (let env = inbox.nextMail(); env; env = inbox.nextMail()) {
    got.push(env.payload);
    inbox.releaseMail();
  }
  return got;
}

describe('priority lanes and the mailbox bound (one thread, real rings)', () => {
  it('serves system, then high, then normal; order within a lane is kept', () => {
    const { inbox, sender } = wired();
    for (let i = 0; i < 100; i++) sender.send(tell(i));
    sender.send(tell(1000, 'high'));
    sender.send(tell(2000, 'system'));
    sender.send(tell(1001, 'high'));
    expect(takeAll(inbox)).to.deep.equal([2000, 1000, 1001, ...Array(100).keys()]);
  });

  it('a high message arriving mid-flood is next after the message in hand', () => {
    const { inbox, sender } = wired();
    for (let i = 0; i < 10; i++) sender.send(tell(i));
    const first = inbox.nextMail()!;
    sender.send(tell(99, 'high'));
    inbox.releaseMail();
    expect(first.payload).to.equal(0);
    expect(takeAll(inbox)).to.deep.equal([99, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('counts admitted messages until released; system messages and replies are outside the bound', () => {
    const { inbox, sender, gate } = wired(3, 'fail');
    sender.send(tell(1));
    sender.send(tell(2, 'high'));
    sender.send(tell(3, 'system'));
    expect(gate.pending).to.equal(2);
    takeAll(inbox);
    expect(gate.pending).to.equal(0);
  });

  it('drop-newest and fail refuse at the bound, with MailboxFullError to the undeliverable handler (fail also throws)', () => {
    const a = wired(2, 'drop-newest');
    for (let i = 0; i < 5; i++) a.sender.send(tell(i));
    expect(a.dropped.map(([e, err]) => [e.payload, (err as MailboxFullError).policy])).to.deep.equal([
      [2, 'drop-newest'],
      [3, 'drop-newest'],
      [4, 'drop-newest'],
    ]);
    expect(takeAll(a.inbox)).to.deep.equal([0, 1]);
    const b = wired(1, 'fail');
    b.sender.send(tell(0));
    expect(() => b.sender.send(tell(1))).to.throw(MailboxFullError);
    expect(b.dropped).to.have.length(1);
  });

  it('drop-oldest sheds the oldest when the receiver reads, keeping the newest `capacity`', () => {
    const { inbox, sender, shed, gate } = wired(3, 'drop-oldest');
    for (let i = 0; i < 8; i++) sender.send(tell(i));
    expect(takeAll(inbox)).to.deep.equal([5, 6, 7]);
    expect(shed.map((e) => e.payload)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(gate.pending).to.equal(0);
  });

  it('backpressure queues at the bound and writes once there is room, in order', async () => {
    const { inbox, sender, dropped } = wired(2, 'backpressure');
    for (let i = 0; i < 5; i++) sender.send(tell(i));
    expect(sender.queued).to.equal(3);
    const got: unknown[] = [];
    while (got.length < 5) {
      got.push(...takeAll(inbox));
      await new Promise((r) => setTimeout(r, 1));
    }
    await sender.idle();
    expect(got).to.deep.equal([0, 1, 2, 3, 4]);
    expect(dropped).to.have.length(0);
  });

  it('backpressure dead-letters what finds no room within waitMs', async () => {
    const { sender, dropped } = wired(1, 'backpressure');
    sender.send(tell(0));
    sender.send(tell(1));
    await sender.idle();
    expect(dropped.map(([e, err]) => [e.payload, (err as MailboxFullError).policy])).to.deep.equal([[1, 'backpressure']]);
  });
});

describe('a ring rung before it is attached', () => {
  it('is read in its own lane once attached (a first reply is not taken for mail)', () => {
    const doorbell = createDoorbell(8);
    const inbox = new Inbox(doorbell, { spinMicros: 0 });
    const ring = createRing(64 * 1024);
    const out = new Outbox({ to: 'rx', lane: 'reply', slot: 2, ring, doorbell });
    out.send({ kind: 'reply', from: 'tx', to: 'rx', id: 7, payload: 'answer' });
    const got: unknown[] = [];
    inbox.drainReplies((env) => got.push(env.payload)); // collects the bit: queued under the default lane
    expect(got).to.deep.equal([]);
    inbox.attach(2, ring, 'reply');
    inbox.drainReplies((env) => got.push(env.payload));
    expect(got).to.deep.equal(['answer']);
    expect(inbox.nextMail()).to.equal(null);
  });
});
