import { expect } from 'chai';
import type { CrashCause } from '../../src/errors.js';
import { Watchdog, type Watched } from '../../src/health/watchdog.js';
import { ActorState, createLiveness, HEARTBEAT, Liveness, STATE } from '../../src/liveness/liveness.js';

function watched(intervalMs: number, misses: number): Watched & { live: Liveness; stalls: string[] } {
  const live = new Liveness(createLiveness());
  Atomics.store(live.i32, STATE, ActorState.idle);
  const stalls: string[] = [];
  return {
    id: 'w',
    liveness: live,
    live,
    stalls,
    spec: { heartbeat: { intervalMs, misses }, deadlineMs: 0 },
    stalled: (_n: number, cause: CrashCause, reason: string) => void stalls.push(`${cause}: ${reason}`),
  };
}

describe('watchdog', () => {
  const dogs: Watchdog[] = [];
  afterEach(() => dogs.splice(0).forEach((d) => d.close()));

  it('reports an actor whose heartbeat stopped for misses × interval while it was watching', () => {
    const dog = new Watchdog();
    dogs.push(dog);
    const w = watched(100, 3); // ticks every 25 ms
    dog.watch(w, 1);
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
    dog.watch(w, 1);
    const t0 = performance.now();
    dog.check(t0);
    dog.check(t0 + 25);
    dog.check(t0 + 2000); // the main thread stalled for two seconds: so, most likely, did the worker
    expect(w.stalls).to.deep.equal([]);
    Atomics.add(w.live.i32, HEARTBEAT, 1); // the worker beats again once it runs
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
    dog.watch(w, 1);
    const t0 = performance.now();
    for (let t = 0; t <= 2000; t += 25) dog.check(t0 + t); // a slow boot, within the boot grace
    Atomics.store(w.live.i32, STATE, ActorState.idle); // ready: no heartbeat has been seen yet
    dog.check(t0 + 2025);
    expect(w.stalls).to.deep.equal([]);
    for (let t = 2050; t <= 2325; t += 25) dog.check(t0 + t);
    expect(w.stalls).to.deep.equal([]);
    dog.check(t0 + 2350);
    expect(w.stalls).to.have.length(1);
  });
});
