import { expect } from 'chai';
import type { CrashCause } from '../../src/errors.js';
import { Watchdog, type Watched } from '../../src/health/watchdog.js';
import { ActorState, createLiveness, F64_HEARTBEAT_AT, HEARTBEAT, Liveness, MSGS_STARTED, STATE } from '../../src/liveness/liveness.js';

/** A watched actor whose worker's event-loop idle time is `idle` (a test moves it as a waiting loop would). */
function watched(intervalMs: number, misses: number): Watched & { live: Liveness; stalls: string[]; idle: number; parked: boolean; reads: number; waited: number | null; ran: number } {
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
    waited: null as number | null,
    ran: 0,
    spec: { heartbeat: { intervalMs, misses }, deadlineMs: 0 },
    stalled: (_n: number, cause: CrashCause, reason: string) => void stalls.push(`${cause}: ${reason}`),
  };
  return w;
}

/** The fake's loop as the watchdog reads it, counting the idle-time reads; `waited`: its thread's wait for a CPU so far (null: unknown). */
const probe = (w: { idle: number; parked: boolean; reads: number; waited: number | null; ran: number }) => ({ idleMs: () => (w.reads++, w.idle), parked: () => w.parked, threadTimes: () => (w.waited === null ? null : { cpuMs: w.ran, waitMs: w.waited }) });

/** A machine with a core for every runnable thread: no stretch. */
const QUIET = { oversubscription: () => 1 };

describe('watchdog', () => {
  const dogs: Watchdog[] = [];
  afterEach(() => dogs.splice(0).forEach((d) => d.close()));

  it('reports an actor whose event loop neither waited nor finished a handler for misses × interval', () => {
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 3); // ticks every 25 ms
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
    dog.check(t0);
    for (let t = 25; t <= 300; t += 25) dog.check(t0 + t);
    expect(w.stalls).to.deep.equal([]);
    dog.check(t0 + 325);
    expect(w.stalls).to.have.length(1);
    expect(w.stalls[0]).to.match(/^heartbeat: event loop stalled: no heartbeat for 325 ms/);
  });

  it('does not count as silence the time its own thread was not running (a late tick)', () => {
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 3);
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
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

  it('does not count as silence the time the worker’s thread waited for a CPU, and still catches one that had the CPU and did nothing with it', () => {
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 3); // limit 300 ms, ticks every 25 ms
    w.waited = 1_000;
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
    dog.check(t0);
    // A machine with far more runnable threads than cores: the thread waits for a CPU 20 ms of every 25.
    for (let t = 25; t <= 1000; t += 25) {
      w.waited += 20;
      dog.check(t0 + t);
    }
    expect(w.stalls).to.deep.equal([]); // 1 s of wall-clock silence, but only ~200 ms of it its own
    // Then it has the CPU (no more waiting) and still shows no sign of life: its own silence adds up to the limit.
    let seenAt = 0;
    for (let t = 1025; t <= 2000 && seenAt === 0; t += 25) {
      dog.check(t0 + t);
      if (w.stalls.length > 0) seenAt = t;
    }
    expect(seenAt).to.be.within(1025, 1200);
    expect(w.stalls[0]).to.match(/^heartbeat: event loop stalled: no heartbeat for \d+ ms \(3 × 100 ms; its thread ran 0 ms on a CPU and waited \d+ ms more for one\)/);
  });

  it('stretches the limit on an oversubscribed machine with its runnable threads per core, up to 10 times, and says so', () => {
    for (const [perCore, expectAt] of [[4, 1225], [50, 3025]] as const) {
      let asked = 0;
      const dog = new Watchdog({ oversubscription: () => (asked++, perCore) });
      dogs.push(dog);
      const w = watched(100, 3); // limit 300 ms
      dog.watch(w, 1, probe(w));
      const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
      let seenAt = 0;
      for (let t = 0; t <= 4000 && seenAt === 0; t += 25) {
        dog.check(t0 + t);
        if (w.stalls.length > 0) seenAt = t;
      }
      expect(seenAt, `${perCore} per core`).to.equal(expectAt);
      expect(w.stalls[0]).to.include(`(3 × 100 ms, ×${Math.min(10, perCore).toFixed(1)} for a machine with ${Math.min(10, perCore).toFixed(1)} runnable threads per core`);
      // The machine is asked only once the silence passed the plain limit.
      expect(asked).to.equal((expectAt - 300) / 25);
    }
  });

  it('counts the wall clock as before when its thread waited for no CPU, or its wait cannot be read', () => {
    for (const waited of [5, null]) {
      const dog = new Watchdog(QUIET);
      dogs.push(dog);
      const w = watched(100, 3);
      w.waited = waited;
      dog.watch(w, 1, probe(w));
      const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
      for (let t = 0; t <= 300; t += 25) dog.check(t0 + t);
      expect(w.stalls, `waited ${waited}`).to.deep.equal([]);
      dog.check(t0 + 325);
      expect(w.stalls, `waited ${waited}`).to.have.length(1);
    }
  });

  it('starts counting an incarnation’s silence when its boot ends, not when it was launched', () => {
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 3);
    Atomics.store(w.live.i32, STATE, ActorState.booting);
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
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
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 3);
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
    for (let t = 0; t <= 5000; t += 25) {
      w.idle += 25; // parked the whole time: no handler runs, no timer fires in the worker
      dog.check(t0 + t);
    }
    expect(w.stalls).to.deep.equal([]);
    expect(Atomics.load(w.live.i32, HEARTBEAT)).to.equal(201); // a sign of life at every pass
    expect(w.live.f64[F64_HEARTBEAT_AT]).to.equal(performance.timeOrigin + t0 + 5000);
  });

  it('counts a worker busy with message after message (its loop never idle) as alive', () => {
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 3);
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
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
    const dog = new Watchdog(QUIET);
    dogs.push(dog);
    const w = watched(100, 4); // limit 400 ms, ticks every 25 ms
    w.parked = true;
    dog.watch(w, 1, probe(w));
    const t0 = Math.floor(performance.now()); // whole ms: the sums below stay exact
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

describe('run-queue figures of a thread (Linux schedstat)', () => {
  it('gives a worker’s OS thread id, and how long that thread waited for a CPU; null for a thread that is not there', async () => {
    const { osThreadId, threadTimes } = await import('../../src/liveness/run-queue.js');
    const { Worker } = await import('node:worker_threads');
    const url = new URL('../../src/liveness/run-queue.js', import.meta.url).href;
    // The worker stays up (its port listened to) until terminated: its thread must still be there when read.
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => {}); import(${JSON.stringify(url)}).then((m) => parentPort.postMessage(m.osThreadId()));`,
      { eval: true },
    );
    try {
      const tid = await new Promise<number>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      if (process.platform !== 'linux') {
        expect(tid).to.equal(0);
        expect(threadTimes(tid)).to.equal(null);
        return;
      }
      expect(tid).to.be.a('number').above(0).and.not.equal(osThreadId());
      const times = threadTimes(tid)!;
      expect(times.cpuMs).to.be.a('number').above(0); // it booted and ran a module
      expect(times.waitMs).to.be.a('number').at.least(0);
      expect(threadTimes(0)).to.equal(null);
      expect(threadTimes(2 ** 30)).to.equal(null);
    } finally {
      await w.terminate();
    }
  });
});
