import { expect } from 'chai';
import type { SystemEvent } from '../../src/index.js';
import { startHttp } from '../../src/http/server.js';
import { actors, Systems, until } from './system-helpers.js';

type Crashed = Extract<SystemEvent, { type: 'crashed' }>;
const crashes = (events: SystemEvent[]): Crashed[] => events.filter((e): e is Crashed => e.type === 'crashed');

describe('flight recorder: an actor’s last messages, read after its worker died (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('lists the messages before a crash, oldest first, the one it died on last and unfinished; the next incarnation goes on', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher'), subscribe: ['t.>'] }] });
    const c = system.ref('c');
    for (let i = 0; i < 3; i++) await c.ask({ op: 'echo', value: i });
    system.publish('t.x', { op: 'echo', value: 'via a topic' });
    await until(() => system.metrics().actors.find((a) => a.id === 'c')!.received >= 4, 'the published message to be handled');
    // process.exit: the worker is gone before the main thread hears of it, so what it shows was read from shared memory.
    c.tell({ op: 'exit', code: 3 });
    const crash = await until(() => crashes(events)[0], 'the crash');
    expect(crash.cause).to.equal('exit');
    const recent = crash.recent!;
    expect(recent.map((m) => [m.kind, m.topic ?? null, m.handlerMs === null])).to.deep.equal([
      ['ask', null, false],
      ['ask', null, false],
      ['ask', null, false],
      ['tell', 't.x', false],
      ['tell', null, true],
    ]);
    for (const m of recent) {
      expect(m).to.include({ from: '$system', incarnation: 1, priority: 'normal' });
      expect(m.bytes).to.be.greaterThan(0);
      expect(m.at).to.be.within(Date.now() - 60_000, Date.now());
    }
    expect(recent[0]!.handlerMs).to.be.a('number');
    // The same history on the actor's status (what /api/actors/:id and the dashboard show).
    expect(system.status().find((s) => s.id === 'c')!.lastCrash!.recent).to.deep.equal(recent);
    const http = await startHttp(system);
    try {
      const answer = (await (await fetch(`${http.url}/api/actors/c`)).json()) as { status: { lastCrash: { recent: unknown } } };
      expect(answer.status.lastCrash.recent, 'GET /api/actors/c').to.deep.equal(recent);
    } finally {
      await http.close();
    }

    // The next incarnation writes on after the last one's entries.
    await until(() => system.status().find((s) => s.id === 'c' && s.state === 'running' && s.incarnation === 2), 'the restart');
    await c.ask({ op: 'echo', value: 'after' });
    c.tell({ op: 'throw', message: 'second' });
    const second = await until(() => crashes(events)[1], 'the second crash');
    expect(second.recent!.map((m) => m.incarnation)).to.deep.equal([1, 1, 1, 1, 1, 2, 2]);
  });

  it('keeps the last `flightRecorder` messages, and none with 0', async () => {
    const small = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] }, { flightRecorder: 4 });
    for (let i = 0; i < 10; i++) await small.system.ref('c').ask({ op: 'echo', value: i });
    small.system.ref('c').tell({ op: 'throw' });
    const crash = await until(() => crashes(small.events)[0], 'the crash');
    expect(crash.recent!.map((m) => m.kind)).to.deep.equal(['ask', 'ask', 'ask', 'tell']);
    expect(crash.recent![3]!.handlerMs).to.equal(null);

    const none = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] }, { flightRecorder: 0 });
    none.system.ref('c').tell({ op: 'throw' });
    const bare = await until(() => crashes(none.events)[0], 'the crash');
    expect(bare).to.not.have.property('recent');
  });

  it('keeps the payloads with payloadBytes: whole when they fit, cut otherwise; on the crash event and /api/actors/:id', async () => {
    const { system, events } = await systems.start(
      { id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] },
      { flightRecorder: { messages: 8, payloadBytes: 64 } },
    );
    const c = system.ref('c');
    await c.ask({ op: 'echo', value: { order: 7, side: 'buy' } });
    await c.ask({ op: 'echo', value: 'x'.repeat(200) });
    c.tell({ op: 'exit', code: 3 });
    const crash = await until(() => crashes(events)[0], 'the crash');
    const payloads = crash.recent!.map((m) => m.payload);
    expect(payloads[0]).to.deep.equal({ op: 'echo', value: { order: 7, side: 'buy' } });
    const cut = payloads[1] as { truncated: boolean; bytes: string; size: number };
    expect(cut.truncated).to.equal(true);
    expect(Buffer.from(cut.bytes, 'base64')).to.have.length(64);
    expect(cut.size).to.be.greaterThan(200);
    expect(payloads[2], 'the message it died on').to.deep.equal({ op: 'exit', code: 3 });
    const http = await startHttp(system);
    try {
      const answer = (await (await fetch(`${http.url}/api/actors/c`)).json()) as { status: { lastCrash: { recent: unknown } } };
      expect(answer.status.lastCrash.recent, 'GET /api/actors/c').to.deep.equal(crash.recent);
    } finally {
      await http.close();
    }
  });

  it('keeps no payload by default', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] });
    await system.ref('c').ask({ op: 'echo', value: 'secret' });
    system.ref('c').tell({ op: 'throw' });
    const crash = await until(() => crashes(events)[0], 'the crash');
    expect(crash.recent).to.have.length(2);
    for (const m of crash.recent!) expect(m).to.not.have.property('payload');
  });

  it('refuses a flightRecorder size out of range, naming it', async () => {
    const err = await systems.start({ id: 'root', strategy: 'one_for_one', children: [] }, { flightRecorder: 1_000_000 }).catch((e: Error) => e);
    expect((err as Error).message).to.match(/flightRecorder/);
    const bytes = await systems.start({ id: 'root', strategy: 'one_for_one', children: [] }, { flightRecorder: { payloadBytes: 1 << 20 } }).catch((e: Error) => e);
    expect((bytes as Error).message).to.equal('flightRecorder.payloadBytes must be a whole number of bytes from 0 to 4096, got 1048576');
  });
});
