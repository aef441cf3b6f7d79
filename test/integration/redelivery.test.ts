import { expect } from 'chai';
import type { ActorSystem, ChildSpec } from '../../src/index.js';
import type { FlusherMsg, Handled } from '../fixtures/actors/flusher.js';
import { actors, Systems, until } from './system-helpers.js';

/**
 * A message is in flight until its release, not only while its handler runs:
 * an incarnation that dies after the handler returned, while what it sent
 * still waits for room, has not finished the message.
 */
describe('redelivery of a message whose handler returned before its sends were out', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  async function run(maxRedeliveries: number): Promise<{ system: ActorSystem; handled: Handled[] }> {
    const sink: ChildSpec = { id: 'sink', module: actors('flusher'), shutdown: 'brutal_kill', mailbox: { capacity: 1, overflow: 'backpressure', waitMs: 30_000 } };
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [sink, { id: 'f', module: actors('flusher'), maxRedeliveries }],
    });
    const handled: Handled[] = [];
    system.subscribe('flusher.handled', (m) => void handled.push(m as Handled));
    // The sink takes this and never finishes it: its mailbox (capacity 1) is full from now on.
    system.ref('sink').tell({ op: 'hold' } satisfies FlusherMsg);
    system.ref('f').tell({ op: 'send-then-die', to: 'sink', seq: 1 } satisfies FlusherMsg);
    await until(() => system.status().find((s) => s.id === 'f' && s.incarnation === 2 && s.state === 'running'), "f's second incarnation");
    return { system, handled };
  }

  it('hands it to the next incarnation marked ctx.redelivered (maxRedeliveries 1)', async () => {
    const { handled } = await run(1);
    await until(() => handled.length >= 2, 'the second handling');
    expect(handled).to.deep.equal([
      { seq: 1, incarnation: 1, redelivered: false },
      { seq: 1, incarnation: 2, redelivered: true },
    ]);
  });

  it('dead-letters it as poison rather than handling it again unmarked (maxRedeliveries 0)', async () => {
    const { system, handled } = await run(0);
    const letter = await until(() => system.deadLetters().find((l) => l.to === 'f'), 'the dead letter');
    expect(letter.reason).to.match(/^poison: .*exited with code 3/);
    expect(letter.payload).to.deep.equal({ op: 'send-then-die', to: 'sink', seq: 1 });
    // A message sent after the crash is handled by the second incarnation: the first one's was not.
    system.ref('f').tell({ op: 'send-then-die', to: 'sink', seq: 2 } satisfies FlusherMsg);
    await until(() => handled.some((h) => h.seq === 2), 'the next message');
    expect(handled).to.deep.equal([
      { seq: 1, incarnation: 1, redelivered: false },
      { seq: 2, incarnation: 2, redelivered: false },
    ]);
  });
});
