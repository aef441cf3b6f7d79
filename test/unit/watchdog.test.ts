import { expect } from 'chai';
import type { CrashCause } from '../../src/errors.js';
import { Watchdog, type Watched } from '../../src/health/watchdog.js';
import { ActorState, createLiveness, F64_HEARTBEAT_AT, HEARTBEAT, Liveness, MSGS_STARTED, STATE } from '../../src/liveness/liveness.js';

/** A watched actor whose worker's event-loop idle time is `idle` (a test moves it as a waiting loop would). */
function watched(intervalMs: number, misses: number): Watched & { live: Liveness; stalls: string[]; idle: number; parked: boolean; reads: number } {
  const live = new Liveness(createLiveness());
  Atomics.store(live.i32, STATE, ActorState.idle);
  const stalls: string[] = [];
  const w = {
    id: 'w',
    liveness: live,
    live,
    stalls,
    idle: 0,
    parked: false,
    reads: 0,
    spec: { heartbeat: { intervalMs, misses }, deadlineMs: 0 },
    stalled: (_n: number, cause: CrashCause, reason: string) => void stalls.push(`${cause}: ${reason}`),
  };
  return w;
}

/** The fake's loop as the watchdog reads it, counting the idle-time reads. */
const probe = (w: { idle: number; parked: boolean; reads: number }) => ({ idleMs: () => (w.reads++, w.idle), parked: () => w.parked });

describe('watchdog', () => {
  const dogs: Watchdog[] = [];
  afterEach(() => dogs.splice(0).forEach((d) => d.close()));

  it('reports an actor whose event loop neither waited nor finished a handler for misses × interval', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 3); // ticks every 25 ms
    dog.watch(w, 1, probe(w));
    const t0 = performance.now();
    dog.check(t0);
    for (let t = 25; t <= 300; t += 25) dog.check(t0 + t);
    expect(w.stalls).to.deep.equal([]);
    dog.check(t0 + 325);
    expect(w.stalls).to.have.length(1);
    expect(w.stalls[0]).to.match(/^heartbeat: event loop stalled: no heartbeat for 325 ms/);
  });

  it('does not count as silence the time its own thread was not running (a late tick)', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 3);
    dog.watch(w, 1, probe(w));
    const t0 = performance.now();
    dog.check(t0);
    dog.check(t0 + 25);
    dog.check(t0 + 2000); // the main thread stalled for two seconds: so, most likely, did the worker
    expect(w.stalls).to.deep.equal([]);
    w.idle += 1; // the worker's loop waits for events again once it runs
    dog.check(t0 + 2025);
    for (let t = 2050; t <= 2300; t += 25) dog.check(t0 + t);
    expect(w.stalls).to.deep.equal([]);
    for (let t = 2325; t <= 2400; t += 25) dog.check(t0 + t);
    expect(w.stalls).to.have.length(1); // silence it was awake to see still counts
  });

  it('starts counting an incarnation’s silence when its boot ends, not when it was launched', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 3);
    Atomics.store(w.live.i32, STATE, ActorState.booting);
    dog.watch(w, 1, probe(w));
    const t0 = performance.now();
    for (let t = 0; t <= 2000; t += 25) dog.check(t0 + t); // a slow boot, within the boot grace
    Atomics.store(w.live.i32, STATE, ActorState.idle); // ready: no sign of life has been seen yet
    dog.check(t0 + 2025);
    expect(w.stalls).to.deep.equal([]);
    for (let t = 2050; t <= 2325; t += 25) dog.check(t0 + t);
    expect(w.stalls).to.deep.equal([]);
    dog.check(t0 + 2350);
    expect(w.stalls).to.have.length(1);
  });

  it('counts an idle worker (its loop waiting for events) as alive for as long as it sleeps, and says when it saw it', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 3);
    dog.watch(w, 1, probe(w));
    const t0 = performance.now();
    for (let t = 0; t <= 5000; t += 25) {
      w.idle += 25; // parked the whole time: no handler runs, no timer fires in the worker
      dog.check(t0 + t);
    }
    expect(w.stalls).to.deep.equal([]);
    expect(Atomics.load(w.live.i32, HEARTBEAT)).to.equal(201); // a sign of life at every pass
    expect(w.live.f64[F64_HEARTBEAT_AT]).to.equal(performance.timeOrigin + t0 + 5000);
  });

  it('counts a worker busy with message after message (its loop never idle) as alive', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 3);
    dog.watch(w, 1, probe(w));
    const t0 = performance.now();
    for (let t = 0; t <= 2000; t += 25) {
      w.live.i32[MSGS_STARTED]!++;
      dog.check(t0 + t);
    }
    expect(w.stalls).to.deep.equal([]);
    for (let t = 2025; t <= 2400; t += 25) dog.check(t0 + t); // then one handler never returns
    expect(w.stalls).to.have.length(1);
    expect(w.stalls[0]).to.match(/^heartbeat: event loop stalled: no heartbeat for \d+ ms \(3 × 100 ms\)/);
  });

  it('looks at a parked actor’s idle time twice per misses × interval, not every pass, and still sees its loop block', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 4); // limit 400 ms, ticks every 25 ms
    w.parked = true;
    dog.watch(w, 1, probe(w));
    const t0 = performance.now();
    w.reads = 0;
    for (let t = 0; t <= 4000; t += 25) {
      w.idle += 25;
      dog.check(t0 + t);
    }
    expect(w.stalls).to.deep.equal([]);
    expect(w.reads).to.be.within(19, 21); // one read every 200 ms over 4 s, where every pass would be 161
    // A timer callback of the user's never returns: the doorbell still says parked, the idle time stops.
    let seenAt = 0;
    for (let t = 4025; t <= 6000 && seenAt === 0; t += 25) {
      dog.check(t0 + t);
      if (w.stalls.length > 0) seenAt = t;
    }
    expect(seenAt - 4000).to.be.within(400, 600); // within 1.5 × the limit
    expect(w.stalls[0]).to.match(/^heartbeat: event loop stalled: no heartbeat for \d+ ms \(4 × 100 ms\)/);
  });
});
