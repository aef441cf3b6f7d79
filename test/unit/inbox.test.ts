import { expect } from 'chai';
import { InboxFullError, InvalidOptionError, NoSuchActorError, RingCorruptError, type DecodeError, type Envelope } from '../../src/index.js';
import { Codec, createDoorbell, createRing, Doorbell, Inbox, Outbox, RingWriter, Switchboard } from '../../src/internal.js';
import { RING_HEADER_BYTES } from '../../src/ring/layout.js';
import type { SwitchboardEvents } from '../../src/transport/switchboard.js';
import { writeEnvelope } from '../../src/transport/frames.js';

function tell(from: string, n: number): Envelope {
  return { kind: 'tell', from, to: 'rx', id: 0, payload: n };
}

function wired(senders: number, options: ConstructorParameters<typeof Inbox>[1] = {}) {
  const doorbell = createDoorbell(senders);
  const inbox = new Inbox(doorbell, { spinMicros: 0, ...options });
  const outs: Outbox[] = [];
  for (let slot = 0; slot < senders; slot++) {
    const ring = createRing(64 * 1024);
    inbox.attach(slot, ring);
    outs.push(new Outbox({ to: 'rx', lane: 'normal', slot, ring, doorbell }));
  }
  return { inbox, outs, doorbell };
}

describe('inbox', () => {
  it('delivers each sender in order', () => {
    const { inbox, outs } = wired(3);
    for (let i = 0; i < 50; i++) for (const [s, o] of outs.entries()) o.send(tell(`s${s}`, i));
    const seen: Record<string, number[]> = {};
    inbox.drain(Infinity, (env) => (seen[env.from] ??= []).push(env.payload as number));
    for (let s = 0; s < 3; s++) expect(seen[`s${s}`]).to.deep.equal([...Array(50).keys()]);
    expect(inbox.depth()).to.equal(0);
  });

  it('does not let a busy sender starve a slow one', () => {
    const { inbox, outs } = wired(2, { fairBatch: 8 });
    for (let i = 0; i < 1000; i++) outs[0]!.send(tell('busy', i));
    outs[1]!.send(tell('slow', 0));
    const order: string[] = [];
    // A small budget per call, as a receiver with other work would use.
    while (order.length < 1001) inbox.drain(16, (env) => order.push(env.from));
    expect(order.indexOf('slow')).to.be.lessThan(16);
  });

  it('takes up again where a drain budget ran out', () => {
    const { inbox, outs } = wired(2, { fairBatch: 4 });
    for (let i = 0; i < 10; i++) outs[0]!.send(tell('a', i));
    for (let i = 0; i < 10; i++) outs[1]!.send(tell('b', i));
    const got: string[] = [];
    while (inbox.drain(3, (env) => got.push(`${env.from}${env.payload as number}`)) > 0);
    expect(got).to.have.length(20);
    expect(got.filter((g) => g.startsWith('a'))).to.deep.equal([...Array(10).keys()].map((i) => `a${i}`));
    expect(inbox.hasWork()).to.equal(false);
  });

  it('hands an undecodable frame aside with its bytes and goes on', () => {
    const bad: Array<{ slot: number; err: DecodeError; raw: Uint8Array }> = [];
    const { inbox, outs } = wired(1, { onUndecodable: (slot, err, raw) => bad.push({ slot, err, raw }) });
    outs[0]!.send(tell('a', 1));
    outs[0]!.writer.tryWrite(Buffer.from([0xc1]));
    outs[0]!.send(tell('a', 2));
    const got: unknown[] = [];
    inbox.drain(Infinity, (env) => got.push(env.payload));
    expect(got).to.deep.equal([1, 2]);
    expect(bad).to.have.length(1);
    expect(bad[0]!.err.code).to.equal('ERR_DECODE');
    expect([...bad[0]!.raw]).to.deep.equal([0xc1]);
  });

  it('detaches a corrupt ring and keeps delivering from the others', () => {
    const corrupt: Array<{ slot: number; err: RingCorruptError }> = [];
    const { inbox, outs } = wired(2, { onRingCorrupt: (slot, err) => corrupt.push({ slot, err }) });
    outs[0]!.send(tell('a', 1));
    new Int32Array(outs[0]!.writer.buffer, RING_HEADER_BYTES)[0] = 123456; // trash the header
    outs[1]!.send(tell('b', 1));
    const got: string[] = [];
    inbox.drain(Infinity, (env) => got.push(env.from));
    expect(got).to.deep.equal(['b']);
    expect(corrupt.map((c) => c.slot)).to.deep.equal([0]);
    expect(inbox.senders).to.equal(1);
    outs[1]!.send(tell('b', 2));
    expect(inbox.drain(Infinity, () => {})).to.equal(1);
  });

  it('wakes a parked consumer on the main thread without blocking it', async () => {
    const { inbox, outs } = wired(1);
    inbox.drain(Infinity, () => {}); // attach marks a new ring ready; take that first
    const parked = inbox.waitForWorkAsync(10_000);
    let ticked = false;
    setImmediate(() => (ticked = true));
    setTimeout(() => outs[0]!.send(tell('a', 1)), 20);
    expect(await parked).to.equal('ready');
    expect(ticked).to.equal(true);
    expect(inbox.drain(Infinity, () => {})).to.equal(1);
    expect(await inbox.waitForWorkAsync(20)).to.equal('timed-out');
  });

  it('delivers frames written before the ring was attached', () => {
    const doorbell = createDoorbell(4);
    const ring = createRing(1024);
    const w = new RingWriter(ring, new Doorbell(doorbell), 2);
    writeEnvelope(w, new Codec(), tell('early', 1));
    const inbox = new Inbox(doorbell, { spinMicros: 0 });
    expect(inbox.drain(Infinity, () => {})).to.equal(0); // rung, but no ring yet
    inbox.attach(2, ring);
    const got: string[] = [];
    inbox.drain(Infinity, (env) => got.push(env.from));
    expect(got).to.deep.equal(['early']);
  });

  it('hands mail out one message at a time, sender by sender, and keeps it until released', () => {
    const { inbox, outs } = wired(2);
    for (let i = 0; i < 3; i++) outs[0]!.send(tell('a', i));
    for (let i = 0; i < 2; i++) outs[1]!.send(tell('b', i));
    const first = inbox.nextMail()!;
    expect(`${first.from}${first.payload as number}`).to.equal('a0');
    expect(inbox.depth()).to.equal(5); // not released yet
    expect(() => inbox.nextMail()).to.throw(/before releaseMail/);
    inbox.releaseMail();
    const order: string[] = [];
    for (let env = inbox.nextMail(); env; env = inbox.nextMail()) {
      order.push(`${env.from}${env.payload as number}`);
      inbox.releaseMail();
    }
    expect(order).to.deep.equal(['b0', 'a1', 'b1', 'a2']);
    expect(inbox.depth()).to.equal(0);
  });

  it('reads the reply lane aside while a mail message is in flight', () => {
    const doorbell = createDoorbell(2);
    const inbox = new Inbox(doorbell, { spinMicros: 0 });
    const mailRing = createRing(4096);
    const replyRing = createRing(4096);
    inbox.attach(0, mailRing, 'normal');
    inbox.attach(1, replyRing, 'reply');
    const mail = new Outbox({ to: 'rx', lane: 'normal', slot: 0, ring: mailRing, doorbell });
    const reply = new Outbox({ to: 'rx', lane: 'reply', slot: 1, ring: replyRing, doorbell });
    mail.send(tell('a', 1));
    mail.send(tell('a', 2));
    expect(inbox.nextMail()!.payload).to.equal(1);
    reply.send({ kind: 'reply', from: 'b', to: 'rx', id: 9, payload: 'answer' });
    const replies: unknown[] = [];
    expect(inbox.drainReplies((env) => replies.push(env.payload))).to.equal(1);
    expect(replies).to.deep.equal(['answer']);
    expect(inbox.depth('normal')).to.equal(2);
    inbox.releaseMail();
    expect(inbox.nextMail()!.payload).to.equal(2);
  });

  it('validates its options and slots', () => {
    expect(() => new Inbox(createDoorbell(2), { fairBatch: 0 })).to.throw(InvalidOptionError, /inbox\.fairBatch/);
    expect(() => new Inbox(createDoorbell(2)).attach(2, createRing(1024))).to.throw(InvalidOptionError, /must be 0\.\.1, got 2/);
    expect(() => createDoorbell(0)).to.throw(InvalidOptionError, /senderSlots/);
  });
});

describe('switchboard', () => {
  const quiet: SwitchboardEvents = { attach: () => {}, detach: () => {}, revoke: () => {} };

  it('gives a departed sender’s slot to a new sender once its receiver has read what it left', () => {
    const log: string[] = [];
    const sb = new Switchboard({
      attach: (to, slot) => void log.push(`attach ${to}:${slot}`),
      detach: (to, slot) => void log.push(`detach ${to}:${slot}`),
      revoke: (sender, to) => void log.push(`revoke ${sender}→${to}`),
    });
    sb.register('rx', { senderSlots: 2, ringBytes: 1024 });
    const codec = new Codec();
    const a = sb.connect('a', 'rx');
    sb.connect('b', 'rx');
    expect(writeEnvelope(new RingWriter(a.ring), codec, { kind: 'tell', from: 'a', to: 'rx', id: 0, payload: 'last words' })).to.equal('written');
    sb.releaseSender('a'); // a is gone for good, but its message is unread
    expect(() => sb.connect('c', 'rx')).to.throw(InboxFullError, /hold unread messages/);
    const inbox = new Inbox(sb.describe('rx').doorbell, { codec });
    for (const r of sb.describe('rx').rings) inbox.attach(r.slot, r.ring, r.lane);
    const got: unknown[] = [];
    inbox.drain(Infinity, (env) => void got.push(env.payload));
    expect(got).to.deep.equal(['last words']); // nothing a departed sender wrote is lost
    const c = sb.connect('c', 'rx'); // now drained: the slot is reused, and so is the ring a left in it
    expect(c.slot).to.equal(a.slot);
    expect(c.ring).to.equal(a.ring);
    expect(sb.slotsInUse('rx')).to.equal(2);
    expect(log).to.deep.equal(['attach rx:0', 'attach rx:1', 'detach rx:0', 'attach rx:0']);
  });

  it('hands a departed sender’s drained ring to the next sender on the same lane, read on as a producer restart would be', () => {
    const sb = new Switchboard(quiet);
    sb.register('rx', { senderSlots: 2, ringBytes: 64 * 1024 });
    const codec = new Codec();
    const inbox = new Inbox(sb.describe('rx').doorbell, { codec, spinMicros: 0 });
    const got: unknown[] = [];
    const read = (): void => void inbox.drain(Infinity, (env) => void got.push([env.from, env.payload]));
    const send = (g: ReturnType<Switchboard['connect']>, from: string, payload: unknown): void => {
      const out = new Outbox({ to: 'rx', lane: g.lane, slot: g.slot, ring: g.ring, doorbell: g.doorbell });
      for (let i = 0; i < 40; i++) out.send({ kind: 'tell', from, to: 'rx', id: 0, payload: { ...(payload as object), i } });
    };
    const a = sb.connect('a', 'rx');
    inbox.attach(a.slot, a.ring, a.lane);
    send(a, 'a', { sym: 'BTC', px: 1 }); // a record structure goes into the ring's dictionary
    read();
    sb.releaseSender('a');
    inbox.detach(a.slot);
    const b = sb.connect('b', 'rx');
    expect([b.slot, b.ring === a.ring]).to.deep.equal([a.slot, true]);
    send(b, 'b', { sym: 'ETH', px: 2 }); // the same shape again, and a new one
    send(b, 'b', { other: true });
    inbox.attach(b.slot, b.ring, b.lane);
    read();
    expect(got.length).to.equal(120);
    expect(got[40]).to.deep.equal(['b', { sym: 'ETH', px: 2, i: 0 }]);
    expect(got[119]).to.deep.equal(['b', { other: true, i: 39 }]);
    expect(got.slice(0, 40).every((x) => (x as [string])[0] === 'a')).to.equal(true);
    // A reply-lane sender does not get a mail ring (nor the other way round): a reader still on the slot would take its frames for the wrong lane.
    sb.releaseSender('b');
    const r = sb.connect('r', 'rx', 'reply');
    expect([r.slot, r.ring === a.ring]).to.deep.equal([a.slot, false]);
    // The receiver has not taken the detach yet when the next sender writes: its old reader reads on, then the new one takes over where it stopped.
    const x = sb.connect('x', 'rx');
    inbox.attach(x.slot, x.ring, x.lane);
    send(x, 'x', { sym: 'SOL', px: 3 });
    sb.releaseSender('x');
    read();
    const y = sb.connect('y', 'rx');
    expect([y.slot, y.ring === x.ring]).to.deep.equal([x.slot, true]);
    got.length = 0;
    send(y, 'y', { sym: 'ADA', px: 4 });
    read();
    inbox.detach(y.slot);
    inbox.attach(y.slot, y.ring, y.lane);
    send(y, 'y', { sym: 'ADA', px: 5 });
    read();
    expect(got.map((g) => { const [from, p] = g as [string, { px: number; i: number }]; return `${from}${p.px}.${p.i}`; })).to.deep.equal([...[4, 5].flatMap((px) => [...Array(40).keys()].map((i) => `y${px}.${i}`))]);
  });

  it('forgets an inbox gone for good, tells its senders to drop their rings, and frees its own slots', () => {
    const revoked: string[] = [];
    const sb = new Switchboard({ ...quiet, revoke: (sender, to) => void revoked.push(`${sender}→${to}`) });
    sb.register('sink', { senderSlots: 1, ringBytes: 1024 });
    sb.register('child', { ringBytes: 1024 });
    sb.connect('child', 'sink');
    sb.connect('sink', 'child', 'reply');
    sb.unregister('child');
    expect(revoked).to.deep.equal(['sink→child']);
    expect(sb.has('child')).to.equal(false);
    expect(sb.slotsInUse('sink')).to.equal(0); // its ring into sink was empty: the slot is free at once
    expect(() => sb.connect('sink', 'child')).to.throw(NoSuchActorError);
    expect(sb.connect('next', 'sink').slot).to.equal(0);
  });

  it('creates one ring per pair on first use and announces it to the receiver', () => {
    const attached: Array<[string, number]> = [];
    const sb = new Switchboard({ ...quiet, attach: (to, slot) => void attached.push([to, slot]) });
    sb.register('rx', { senderSlots: 2, ringBytes: 1024 });
    const g1 = sb.connect('a', 'rx');
    const again = sb.connect('a', 'rx');
    const g2 = sb.connect('b', 'rx');
    expect(again.ring).to.equal(g1.ring);
    expect([g1.slot, g2.slot]).to.deep.equal([0, 1]);
    expect(attached).to.deep.equal([['rx', 0], ['rx', 1]]);
    expect(sb.describe('rx').rings.map((r) => r.slot)).to.deep.equal([0, 1]);
    expect(() => sb.connect('c', 'rx')).to.throw(InboxFullError, /all 2 sender slots of 'rx'/);
  });

  it('refuses unknown receivers and bad sizes with clear errors', () => {
    const sb = new Switchboard(quiet);
    expect(() => sb.connect('a', 'ghost')).to.throw(NoSuchActorError, /'ghost'/);
    expect(() => sb.register('x', { ringBytes: 1000 })).to.throw(InvalidOptionError, /ring\.capacityBytes/);
    sb.register('y');
    expect(() => sb.register('y')).to.throw(InvalidOptionError, /registered already/);
  });
});
