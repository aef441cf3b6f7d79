import { expect } from 'chai';
import { InvalidOptionError } from '../../src/index.js';
import { createDoorbell, Doorbell, Parking, SEAT_STALE_MS, SpinBudget } from '../../src/internal.js';
import { oversubscribed, runnableNow } from '../../src/transport/oversubscribed.js';

describe('spinning: a process-wide budget and an adaptive spin', () => {
  describe('SpinBudget', () => {
    it('seats at most its number of spinners, and a seat given back is free again', () => {
      const budget = SpinBudget.create(2);
      const a = budget.enter();
      const b = budget.enter();
      expect(a).to.be.at.least(0);
      expect(b).to.be.at.least(0);
      expect(budget.enter()).to.equal(-1);
      expect(budget.spinning).to.equal(2);
      budget.leave(a);
      expect(budget.spinning).to.equal(1);
      const c = budget.enter();
      expect(c).to.be.at.least(0);
      expect(budget.enter()).to.equal(-1);
    });

    it('is shared through its buffer: a seat taken through one view is taken for every other', () => {
      const one = SpinBudget.create(1);
      const other = new SpinBudget(one.buffer);
      const t = one.enter();
      expect(other.enter()).to.equal(-1);
      one.leave(t);
      expect(other.enter()).to.be.at.least(0);
    });

    it('takes back the seat of a thread that died while spinning, and the dead ticket frees nothing later', () => {
      const budget = SpinBudget.create(1);
      const dead = budget.enter();
      expect(budget.enter()).to.equal(-1);
      // The seat's claim time moved back past SEAT_STALE_MS, as if its holder had stopped long ago.
      const i32 = new Int32Array(budget.buffer);
      const seat = 2 + (dead >>> 16) * 2;
      i32[seat] = ((i32[seat]! - SEAT_STALE_MS - 1) & 0x7fff_ffff) || 1;
      const alive = budget.enter();
      expect(alive).to.be.at.least(0);
      budget.leave(dead);
      expect(budget.spinning).to.equal(1);
      expect(budget.enter()).to.equal(-1);
      budget.leave(alive);
      expect(budget.spinning).to.equal(0);
    });

    it('refuses a bad size and a buffer that is not a budget', () => {
      expect(() => SpinBudget.create(0)).to.throw(InvalidOptionError, /maxSpinners must be an integer from 1 to 256, got 0/);
      expect(() => new SpinBudget(new SharedArrayBuffer(8))).to.throw(InvalidOptionError, /not a spin budget/);
    });
  });

  describe('Doorbell: one wake per park', () => {
    it('sends one notify for a burst of rings into a parked consumer, and none while it is awake', async () => {
      const doorbell = new Doorbell(createDoorbell(8));
      for (let i = 0; i < 100; i++) doorbell.ring(i % 8);
      expect(doorbell.notifies).to.equal(0);
      for (let w = 0; w < doorbell.readyWords; w++) doorbell.takeReadyWord(w);
      const parked = doorbell.parkAsync(5000);
      for (let i = 0; i < 100; i++) doorbell.ring(i % 8);
      expect(await parked).to.equal('ready');
      expect(doorbell.notifies).to.equal(1);
      expect(doorbell.anyReady()).to.equal(true);
    });
  });

  describe('Parking', () => {
    const quiet = (): { doorbell: Doorbell; parking: (policy: Partial<ConstructorParameters<typeof Parking>[1]>) => Parking } => {
      const doorbell = new Doorbell(createDoorbell(4));
      // The machine this runs on is not consulted: a test's CPU neighbours must not change what it sees.
      return { doorbell, parking: (p) => new Parking(doorbell, { micros: 300, adaptive: true, budget: null, machineBusy: () => false, ...p }, () => doorbell.anyReady()) };
    };

    it('does not spin while the machine has more runnable threads than cores, and counts that', () => {
      const { parking } = quiet();
      let busy = true;
      const p = parking({ machineBusy: () => busy });
      p.busy();
      expect(p.spin()).to.equal(false);
      expect(p.stats).to.deep.include({ skipped: 1, busy: 1, misses: 0, hits: 0 });
      busy = false;
      p.busy();
      p.spin();
      expect(p.stats.misses + p.stats.preempted).to.equal(1);
      expect(p.stats.busy).to.equal(1);
    });

    it('spins only after it took work, and counts a spin that found nothing as a miss', () => {
      const { parking } = quiet();
      const p = parking({});
      expect(p.spin()).to.equal(false);
      expect(p.stats).to.deep.equal({ hits: 0, misses: 0, skipped: 0, noSeat: 0, busy: 0, preempted: 0, contended: 0 });
      p.busy();
      expect(p.spin()).to.equal(false);
      // On a busy machine the spin may be cut short by preemption: fruitless either way.
      expect(p.stats.misses + p.stats.preempted).to.equal(1);
    });

    it('finds work that is already there without spinning', () => {
      const { doorbell, parking } = quiet();
      const p = parking({});
      doorbell.ring(2);
      p.busy();
      expect(p.spin()).to.equal(true);
    });

    it('does not spin while the gaps between messages are longer than the spin', () => {
      const { parking } = quiet();
      const p = parking({});
      for (let i = 0; i < 8; i++) p.learn(50); // 50 ms gaps against a 0.3 ms spin
      p.busy();
      expect(p.spin()).to.equal(false);
      expect(p.stats).to.include({ skipped: 1, misses: 0 });
      for (let i = 0; i < 32; i++) p.learn(0.01); // traffic close again
      p.busy();
      p.spin();
      expect(p.stats.misses + p.stats.preempted).to.equal(1);
    });

    it('backs off after fruitless spins, then tries again', () => {
      const { parking } = quiet();
      const p = parking({ micros: 100 });
      for (let i = 0; i < 3; i++) {
        p.busy();
        p.spin();
      }
      // Two fruitless spins (run out, or cut short by preemption on a busy machine), then a wait that parks at once.
      expect(p.stats.misses + p.stats.preempted).to.equal(2);
      expect(p.stats.skipped).to.equal(1);
      p.busy();
      p.spin();
      expect(p.stats.misses + p.stats.preempted).to.equal(3);
    });

    it('parks at once when every seat of the budget is taken', () => {
      const { parking } = quiet();
      const budget = SpinBudget.create(1);
      const held = budget.enter();
      const p = parking({ budget });
      p.busy();
      expect(p.spin()).to.equal(false);
      expect(p.stats).to.include({ noSeat: 1, misses: 0 });
      budget.leave(held);
      p.busy();
      p.spin();
      expect(p.stats.misses + p.stats.preempted).to.equal(1);
      expect(budget.spinning).to.equal(0);
    });

    it('stops spinning for every thread of the budget once a spinner finds itself preempted', () => {
      const { parking } = quiet();
      const budget = SpinBudget.create(2);
      const p = parking({ budget });
      const other = parking({ budget });
      budget.markContended(10_000);
      expect(budget.contended).to.equal(true);
      p.busy();
      other.busy();
      expect(p.spin()).to.equal(false);
      expect(other.spin()).to.equal(false);
      expect(p.stats.skipped + other.stats.skipped).to.equal(2);
      expect(p.stats.misses + other.stats.misses).to.equal(0);
      budget.markContended(-1);
      expect(budget.contended).to.equal(false);
    });

    it('never spins with micros 0, and refuses a spin longer than its limit', () => {
      const { parking } = quiet();
      const p = parking({ micros: 0 });
      p.busy();
      expect(p.spin()).to.equal(false);
      expect(p.stats).to.deep.equal({ hits: 0, misses: 0, skipped: 0, noSeat: 0, busy: 0, preempted: 0, contended: 0 });
      expect(() => parking({ micros: 60_000 })).to.throw(InvalidOptionError, /spin.micros must be a number from 0 to 50000, got 60000/);
    });
  });

  describe('oversubscribed: was a preempted spin the machine being full, or the hypervisor?', () => {
    it("reads the runnable threads from /proc/loadavg's fourth field", () => {
      expect(runnableNow(() => '0.68 0.28 0.30 3/250 1234\n')).to.equal(3);
      expect(runnableNow(() => '0.00 0.01 0.05 1/87 99')).to.equal(1);
    });

    it('says -1 when it cannot tell (no such file, or a line it does not know), and counts that as oversubscribed', () => {
      expect(
        runnableNow(() => {
          throw new Error('ENOENT');
        }),
      ).to.equal(-1);
      expect(runnableNow(() => 'garbage')).to.equal(-1);
      expect(oversubscribed(-1, 2)).to.equal(true);
    });

    it('is oversubscribed only with more runnable threads than cores', () => {
      expect(oversubscribed(2, 2)).to.equal(false);
      expect(oversubscribed(3, 2)).to.equal(true);
      expect(oversubscribed(1, 4)).to.equal(false);
    });

    it('reads this machine: this thread, at least, is runnable', () => {
      const n = runnableNow();
      if (process.platform === 'linux') expect(n).to.be.at.least(1);
      else expect(n).to.equal(-1);
    });
  });
});
