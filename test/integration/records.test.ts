import { expect } from 'chai';
import { tickOf, type RecorderMsg, type Tick } from '../fixtures/actors/recorder.js';
import { actors, Systems, until } from './system-helpers.js';

type Got = { incarnation: number; got: Tick[] };

const seqs = (g: Got): number[] => g.got.map((t) => t.seq);

describe('record structures across restarts (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('a receiver restarted mid-stream decodes every later frame, those written before its restart included', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'rx', module: actors('recorder') }] });
    const rx = system.ref<RecorderMsg>('rx');
    // All twenty are in the ring before the receiver reads far: it dies on tick 10, with 11..19 unread.
    for (let i = 0; i < 20; i++) rx.tell(tickOf(i, i === 10 ? { crashIn: 1 } : {}));
    await until(() => system.status().find((a) => a.id === 'rx' && a.incarnation === 2 && a.state === 'running'), 'rx restarted');
    for (let i = 20; i < 25; i++) rx.tell(tickOf(i, { venue: 'NEW' })); // a shape first seen after the restart
    const got = await rx.ask<Got>({ op: 'got' });
    expect(got.incarnation).to.equal(2);
    expect(seqs(got)).to.deep.equal([...Array(14).keys()].map((i) => i + 11));
    expect(got.got[0]).to.deep.equal(tickOf(11));
    expect(got.got.at(-1)).to.deep.equal(tickOf(24, { venue: 'NEW' }));
    // The tick it died on left as poison: read on the main thread from the same ring, with the ring's structures.
    expect(system.deadLetters().map((l) => [l.to, l.payload])).to.deep.equal([['rx', tickOf(10, { crashIn: 1 })]]);
  });

  it('a sender restarted keeps writing frames its receiver decodes, old shapes and new', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'tx', module: actors('recorder') },
        { id: 'rx', module: actors('recorder') },
      ],
    });
    const tx = system.ref<RecorderMsg>('tx');
    const rx = system.ref<RecorderMsg>('rx');
    await tx.ask({ op: 'relay', to: 'rx', from: 0, n: 5 }); // wires the ring (sends before that wait in the sender)
    // Written straight into the ring, then the sender dies: its frames stay for rx.
    await tx.ask({ op: 'relay', to: 'rx', from: 5, n: 5, crashAfter: true }).catch(() => undefined);
    await until(() => system.status().find((a) => a.id === 'tx' && a.incarnation === 2 && a.state === 'running'), 'tx restarted');
    await tx.ask({ op: 'relay', to: 'rx', from: 10, n: 5, venue: 'NEW' }); // a new shape from the new incarnation
    await tx.ask({ op: 'relay', to: 'rx', from: 15, n: 5 }); // and the old one again
    // The receiver takes one message per sender in turn: wait until tx's last tick is in.
    const got = await until(async () => {
      const g = await rx.ask<Got>({ op: 'got' });
      return g.got.length >= 20 && g;
    }, 'every relayed tick');
    expect(got.incarnation).to.equal(1);
    expect(got.got).to.deep.equal([
      ...[...Array(10).keys()].map((i) => tickOf(i)),
      ...[10, 11, 12, 13, 14].map((i) => tickOf(i, { venue: 'NEW' })),
      ...[15, 16, 17, 18, 19].map((i) => tickOf(i)),
    ]);
    expect(system.deadLetters().filter((l) => l.to === 'rx')).to.deep.equal([]);
  });
});
