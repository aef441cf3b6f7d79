import { expect } from 'chai';
import type { DeadLetter, Envelope } from '../../src/index.js';
import { Codec, createDoorbell, createRing, Inbox, Outbox } from '../../src/internal.js';
import { settleInFlight } from '../../src/cell/in-flight.js';
import type { CellServices } from '../../src/cell/contract.js';
import { createLiveness, IN_FLIGHT_PHASE, InFlightPhase, Liveness } from '../../src/liveness/liveness.js';

/**
 * The main thread's side of a message an incarnation took and did not
 * release: each phase the host can die in, settled as the cell does once the
 * worker is gone, and what the next reader of the ring then gets.
 */
function rig() {
  const doorbell = createDoorbell(2);
  const ring = createRing(64 * 1024);
  const out = new Outbox({ to: 'rx', lane: 'normal', slot: 1, ring, doorbell });
  for (let i = 1; i <= 3; i++) out.send({ kind: 'tell', from: 'tx', to: 'rx', id: 0, payload: i } satisfies Envelope);
  const letters: Array<Pick<DeadLetter, 'payload' | 'reason'>> = [];
  const svc = {
    wiring: { switchboard: { has: (id: string) => id === 'rx', describe: () => ({ id: 'rx', doorbell, rings: [{ slot: 1, ring, lane: 'normal' }] }) } },
    codec: new Codec(),
    deadLetter: (l: DeadLetter) => void letters.push({ payload: l.payload, reason: l.reason }),
    settleAsk: () => {},
  } as unknown as CellServices;
  const block = createLiveness();
  /** One incarnation: a fresh inbox and host-side liveness view over the same ring and block. */
  const incarnation = () => {
    const inbox = new Inbox(doorbell, { spinMicros: 0 });
    inbox.attach(1, ring);
    const live = new Liveness(block);
    live.resetForIncarnation();
    const take = (): { payload: unknown; redelivered: boolean } | null => {
      const env = inbox.nextMail();
      if (!env) return null;
      live.take(inbox.inFlightSlot, inbox.inFlightPos);
      return { payload: env.payload, redelivered: live.redelivered };
    };
    return { inbox, live, take };
  };
  const settle = (crash: Error | null, maxRedeliveries: number, actor = 'rx') => settleInFlight(svc, actor, new Liveness(block), crash, { key: '', deaths: 0 }, maxRedeliveries);
  return { letters, incarnation, settle };
}

const crash = new Error('worker exited with code 3');

describe('settleInFlight: the message an incarnation left in flight', () => {
  it('settles nothing, and does not throw, for an actor whose inbox is gone (forgotten while it stopped)', () => {
    const { letters, incarnation, settle } = rig();
    const first = incarnation();
    expect(first.take()).to.deep.equal({ payload: 1, redelivered: false });
    const mark = settle(crash, 0, 'forgotten');
    expect(mark).to.deep.equal({ key: '', deaths: 0 });
    expect(letters).to.deep.equal([]);
  });

  it('releases a message that was handled with its sends in rings, though the worker died before its release', () => {
    const { letters, incarnation, settle } = rig();
    const first = incarnation();
    expect(first.take()).to.deep.equal({ payload: 1, redelivered: false });
    Atomics.store(first.live.i32, IN_FLIGHT_PHASE, InFlightPhase.sent); // dies between the phase and the commit
    settle(crash, 0);
    expect(letters).to.deep.equal([]);
    expect(incarnation().take()).to.deep.equal({ payload: 2, redelivered: false });
  });

  it('does nothing once the release is published, even with the slot still marked in flight', () => {
    const { letters, incarnation, settle } = rig();
    const first = incarnation();
    first.take();
    first.inbox.releaseMail(); // dies after the commit, before the slot is cleared
    settle(crash, 0);
    expect(letters).to.deep.equal([]);
    expect(incarnation().take()).to.deep.equal({ payload: 2, redelivered: false });
  });

  it('marks a message whose sends were not all in rings as redelivered for the next incarnation (maxRedeliveries 1)', () => {
    const { letters, incarnation, settle } = rig();
    const first = incarnation();
    first.take();
    Atomics.store(first.live.i32, IN_FLIGHT_PHASE, InFlightPhase.flushing);
    settle(crash, 1);
    expect(letters).to.deep.equal([]);
    const second = incarnation();
    expect(second.take()).to.deep.equal({ payload: 1, redelivered: true });
    second.live.release(second.inbox);
    expect(second.take()).to.deep.equal({ payload: 2, redelivered: false });
  });

  it('dead-letters it as poison past maxRedeliveries, so no incarnation handles it again', () => {
    const { letters, incarnation, settle } = rig();
    const first = incarnation();
    first.take();
    Atomics.store(first.live.i32, IN_FLIGHT_PHASE, InFlightPhase.flushing);
    settle(crash, 0);
    expect(letters).to.deep.equal([{ payload: 1, reason: 'poison: worker exited with code 3' }]);
    expect(incarnation().take()).to.deep.equal({ payload: 2, redelivered: false });
  });

  it('marks the message of a worker stopped by force mid-handler as redelivered, without a poison count', () => {
    const { letters, incarnation, settle } = rig();
    incarnation().take();
    settle(null, 0);
    expect(letters).to.deep.equal([]);
    expect(incarnation().take()).to.deep.equal({ payload: 1, redelivered: true });
  });

  it('keeps the mark for an incarnation that died before taking the message', () => {
    const { letters, incarnation, settle } = rig();
    incarnation().take();
    settle(crash, 2);
    incarnation(); // dies in init: takes nothing
    settle(crash, 2);
    const third = incarnation();
    expect(third.take()).to.deep.equal({ payload: 1, redelivered: true });
    // Dies on it again, past its redeliveries this time: dead-lettered, and the next message is not marked.
    settle(crash, 0);
    expect(letters.map((l) => l.payload)).to.deep.equal([1]);
    expect(incarnation().take()).to.deep.equal({ payload: 2, redelivered: false });
  });
});
