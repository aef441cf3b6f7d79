import { createClock } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { LiveFeed, type Clock, type LiveFeedOptions, type LiveSink, type LiveSource } from '../../src/http/dashboard/live-feed.js';
import type { EventInput, SystemEvent } from '../../src/events.js';
import type { ActorMetrics } from '../../src/system/snapshot.js';
import type { ActorStatus } from '../../src/system/system.js';

type FakeClock = ReturnType<typeof createClock>;

/** The part of a system the feed reads, with counters a test can move and calls it can count. */
class FakeSystem implements LiveSource {
  readonly name = 'fake';
  state = 'running';
  statusCalls = 0;
  metricsCalls = 0;
  readonly listeners = new Set<(e: SystemEvent) => void>();
  readonly actors = new Map<string, { received: number; sent: number; counts: number[] }>([['a', { received: 0, sent: 0, counts: [0, 0, 0, 0] }]]);
  constructor(private readonly clock: FakeClock) {}

  status(): ActorStatus[] {
    this.statusCalls++;
    return [...this.actors.keys()].map((id) => ({ id, parent: 'root', kind: 'actor', state: 'running', incarnation: 1, restarts: 0, inboxDepth: 0, handled: 0 }));
  }

  metrics(): { actors: ActorMetrics[] } {
    this.metricsCalls++;
    return {
      actors: [...this.actors].map(([id, c]) => ({
        id,
        parent: 'root',
        state: 'running',
        incarnation: 1,
        restarts: 0,
        crashesByCause: {},
        received: c.received,
        sent: c.sent,
        inboxDepth: 2,
        senderSlotsInUse: 1,
        ringFullEvents: 0,
        heartbeatMisses: 0,
        published: 0,
        unrouted: 0,
        dropped: {},
        mailboxCapacity: 0,
        deadLetters: 0,
        handler: { boundsSeconds: [0.001, 0.01, 0.1], counts: c.counts.slice(), sumSeconds: 0 },
        uptimeMs: 1000,
        heapUsedMb: 5.5,
        heartbeatAgeMs: 120,
        cpuPct: 1.5,
        eventLoopUtilization: 0.015,
      })),
    };
  }

  on(_type: '*', listener: (e: SystemEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: EventInput): void {
    for (const l of this.listeners) l({ ...e, at: this.clock.now } as SystemEvent);
  }
}

interface Message {
  event?: string;
  retry?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: any;
}

class FakeSink implements LiveSink {
  readonly chunks: string[] = [];
  backlog = 0;
  ended = false;
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  end(): void {
    this.ended = true;
  }
  /** Every SSE message received, parsed. */
  messages(): Message[] {
    return this.chunks
      .join('')
      .split('\n\n')
      .filter((block) => block.length > 0)
      .map((block) => {
        const m: Message = {};
        for (const line of block.split('\n')) {
          const [field, ...rest] = line.split(': ');
          const value = rest.join(': ');
          if (field === 'event') m.event = value;
          else if (field === 'data') m.data = JSON.parse(value);
          else if (field === 'retry') m.retry = Number(value);
        }
        return m;
      });
  }
  updates(): Message['data'][] {
    return this.messages()
      .filter((m) => m.event === 'update')
      .map((m) => m.data);
  }
}

describe('live feed (fake system, fake clock)', () => {
  let clock: FakeClock;
  let system: FakeSystem;
  let feed: LiveFeed | null;

  beforeEach(() => {
    clock = createClock(1_700_000_000_000);
    system = new FakeSystem(clock);
  });
  afterEach(() => {
    feed?.close();
    feed = null;
  });

  const asClock = (c: FakeClock): Clock => ({
    now: () => c.now,
    setTimeout: (fn, ms) => c.setTimeout(fn, ms),
    clearTimeout: (handle) => c.clearTimeout(handle as ReturnType<FakeClock['setTimeout']>),
  });
  const start = (options: LiveFeedOptions = {}): LiveFeed => (feed = new LiveFeed(system, { clock: asClock(clock), ...options }));
  const crash = (actor: string, reason = 'boom'): void => system.emit({ type: 'crashed', actor, incarnation: 1, cause: 'exception', reason });

  it('greets a client with retry, the status, the history so far, recent events and the fixed info', () => {
    start({ retryMs: 1500, info: { actions: { token: true, reload: false } } });
    crash('a');
    clock.tick(2000);
    const sink = new FakeSink();
    feed!.connect(sink);
    const [hello, ...rest] = sink.messages();
    expect(rest).to.deep.equal([]);
    expect(hello!.retry).to.equal(1500);
    expect(hello!.event).to.equal('hello');
    expect(hello!.data).to.deep.include({ name: 'fake', state: 'running', sampleMs: 1000, actions: { token: true, reload: false } });
    expect(hello!.data.status.map((s: ActorStatus) => s.id)).to.deep.equal(['a']);
    expect(hello!.data.history).to.have.length(3); // at start, +1 s, +2 s
    expect(hello!.data.events).to.deep.equal([{ seq: 1, type: 'crashed', actor: 'a', incarnation: 1, cause: 'exception', reason: 'boom', at: 1_700_000_000_000 }]);
  });

  it('samples on its own timer: rates and handler percentiles over each interval, a bounded history', () => {
    start({ sampleMs: 500, historyPoints: 4 });
    const sink = new FakeSink();
    feed!.connect(sink);
    const a = system.actors.get('a')!;
    a.received = 50;
    a.sent = 25;
    a.counts = [0, 40, 10, 0]; // 40 in (1, 10] ms, 10 in (10, 100] ms
    clock.tick(501); // the sample, then the update (a zero delay counts as 1 ms inside a fake tick)
    const [first] = sink.updates();
    expect(first.samples).to.have.length(1);
    expect(first.samples[0].actors.a).to.deep.equal({ in: 100, out: 50, p50: 6.63, p99: 95.5, inbox: 2, heapMb: 5.5, heartbeatAgeMs: 120, cpuPct: 1.5 });
    clock.tick(500); // nothing handled in this interval
    expect(sink.updates()[1].samples[0].actors.a).to.deep.include({ in: 0, out: 0, p50: null, p99: null });
    clock.tick(5000);
    const helloLater = new FakeSink();
    feed!.connect(helloLater);
    expect(helloLater.messages()[0]!.data.history.map((p: { t: number }) => p.t)).to.deep.equal([4500, 5000, 5500, 6000].map((ms) => 1_700_000_000_000 + ms));
  });

  it('latest(): the newest sample with the interval it covers, for one-shot clients (no rates in the first sample)', () => {
    start({ sampleMs: 500 });
    const first = feed!.latest()!;
    expect(first.intervalMs).to.equal(null);
    expect(first.actors.a).to.deep.include({ in: null, out: null });
    system.actors.get('a')!.received = 30;
    clock.tick(500);
    const second = feed!.latest()!;
    expect(second).to.deep.include({ t: 1_700_000_000_500, intervalMs: 500 });
    expect(second.actors.a).to.deep.include({ in: 60, out: 0 });
    feed!.close();
    expect(feed!.latest()).to.deep.equal(second);
  });

  it('coalesces events into updates at least minPushMs apart, each built once for every client', () => {
    start({ minPushMs: 250, sampleMs: 60_000 });
    const sinks = [new FakeSink(), new FakeSink(), new FakeSink()];
    for (const s of sinks) feed!.connect(s);
    const statusCallsAfterHello = system.statusCalls;
    crash('a', 'one');
    crash('a', 'two');
    system.emit({ type: 'restarted', actor: 'a', incarnation: 2 });
    expect(sinks[0]!.updates(), 'nothing before the timer fires').to.deep.equal([]);
    clock.tick(0);
    const first = sinks[0]!.updates();
    expect(first).to.have.length(1);
    expect(first[0].events.map((e: { seq: number; type: string }) => `${e.seq}:${e.type}`)).to.deep.equal(['1:crashed', '2:crashed', '3:restarted']);
    expect(system.statusCalls - statusCallsAfterHello, 'one status per update, not per client').to.equal(1);
    // Every client got the very same bytes.
    expect(sinks[1]!.chunks.at(-1)).to.equal(sinks[0]!.chunks.at(-1));
    expect(sinks[2]!.chunks.at(-1)).to.equal(sinks[0]!.chunks.at(-1));

    for (let i = 0; i < 10; i++) {
      crash('a', `burst ${i}`);
      clock.tick(20);
    }
    // 200 ms after the first update: still inside its 250 ms.
    expect(sinks[0]!.updates()).to.have.length(1);
    clock.tick(50);
    const updates = sinks[0]!.updates();
    expect(updates).to.have.length(2);
    expect(updates[1].events).to.have.length(10);
    expect(updates[1].dropped).to.equal(0);
    expect(updates[1].t - updates[0].t).to.be.at.least(250);
    expect(system.statusCalls - statusCallsAfterHello).to.equal(2);
  });

  it('keeps a bounded list of events: an update says how many it could not carry', () => {
    start({ eventLimit: 5, minPushMs: 250, sampleMs: 60_000 });
    const sink = new FakeSink();
    feed!.connect(sink);
    clock.tick(300); // no update pending; the next one may go at once
    crash('a', 'first');
    for (let i = 0; i < 11; i++) crash('a', `more ${i}`);
    clock.tick(0);
    const [u] = sink.updates();
    expect(u.events.map((e: { reason: string }) => e.reason)).to.deep.equal(['more 6', 'more 7', 'more 8', 'more 9', 'more 10']);
    expect(u.dropped).to.equal(7);
    const late = new FakeSink();
    feed!.connect(late);
    expect(late.messages()[0]!.data.events).to.have.length(5);
  });

  it('passes a dead letter on without its payload and clips very long texts', () => {
    start({ sampleMs: 60_000 });
    const sink = new FakeSink();
    feed!.connect(sink);
    system.emit({ type: 'dead-letter', letter: { kind: 'tell', from: 'x', to: 'a', id: 0, payload: { secret: 'x'.repeat(10_000) }, reason: 'no such actor', at: 1 } });
    crash('a', 'r'.repeat(5000));
    clock.tick(0);
    const [letter, crashed] = sink.updates()[0].events;
    expect(letter).to.deep.equal({ seq: 1, type: 'dead-letter', at: clock.now, letter: { kind: 'tell', from: 'x', to: 'a', reason: 'no such actor' } });
    expect(crashed.reason.length).to.be.lessThan(2100);
  });

  it('stops pushing to a client that disconnects, and with nobody left keeps no push timer', () => {
    start({ sampleMs: 1000 });
    const stays = new FakeSink();
    const leaves = new FakeSink();
    const staysLeaves = feed!.connect(stays);
    const disconnect = feed!.connect(leaves);
    crash('a');
    disconnect();
    disconnect(); // twice is harmless
    clock.tick(0);
    expect(feed!.clients).to.equal(1);
    expect(leaves.updates()).to.deep.equal([]);
    expect(stays.updates()).to.have.length(1);

    crash('a'); // schedules an update for the one left …
    staysLeaves(); // … which leaves before it goes
    expect(feed!.clients).to.equal(0);
    expect(clock.countTimers(), 'only the sampler').to.equal(1);
    crash('a');
    expect(clock.countTimers(), 'an event with nobody listening schedules nothing').to.equal(1);
    clock.tick(3000);
    expect(clock.countTimers()).to.equal(1);
  });

  it('drops a client whose unsent backlog grows past the limit; the others go on', () => {
    start({ maxBacklogBytes: 1000, sampleMs: 60_000 });
    const slow = new FakeSink();
    const fast = new FakeSink();
    feed!.connect(slow);
    feed!.connect(fast);
    slow.backlog = 5000;
    crash('a');
    clock.tick(0);
    expect(slow.ended).to.equal(true);
    expect(slow.updates()).to.deep.equal([]);
    expect(fast.updates()).to.have.length(1);
    expect(feed!.clients).to.equal(1);
  });

  it('close() says closing and ends every stream, removes its listener and every timer; a later connect is ended at once', () => {
    start();
    const sinks = [new FakeSink(), new FakeSink()];
    for (const s of sinks) feed!.connect(s);
    crash('a'); // an update is pending
    expect(system.listeners.size).to.equal(1);
    feed!.close();
    expect(sinks.map((s) => s.ended)).to.deep.equal([true, true]);
    expect(sinks.map((s) => s.messages().map((m) => m.event))).to.deep.equal([
      ['hello', 'closing'],
      ['hello', 'closing'],
    ]);
    expect(system.listeners.size).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
    expect(feed!.clients).to.equal(0);
    const late = new FakeSink();
    feed!.connect(late);
    expect(late.ended).to.equal(true);
    expect(late.chunks).to.deep.equal([]);
    feed!.close(); // twice is harmless
  });
});
