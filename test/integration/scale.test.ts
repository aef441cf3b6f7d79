import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runScale, steadyAfter, type ScaleResult, type SideResult } from '../../bench/lib/scale-run.js';
import { activeResources, grown, threadCount } from '../../bench/lib/soak-leftovers.js';

/**
 * The scale benchmark's core (bench/lib/scale-run.ts, which npm run bench:scale
 * runs at full size) at a tiny one: 5 fan-in senders, a 3-stage pipeline and
 * 6 random-pairs actors, 200-300 messages a run, one run after two warm-ups.
 * Only delivery, the result's shape and the clean-up are asserted; the figures
 * themselves are the benchmark's business.
 */
const PLAN = {
  fanIn: { senders: 5, perSender: 40 },
  pipeline: { stages: 3, messages: 300 },
  // 6 actors × 200 msgs/s × 0.25 s = 300 messages, each to one of 3 peers.
  random: { actors: 6, peers: 3, ratePerSec: 1200, seconds: 0.25 },
  runs: 1,
  warmUps: 2,
  warmUpMs: 0,
  warmUpMaxMs: 0,
  runTimeoutMs: 20_000,
  settleMs: 20,
};
const FIGURES = ['deliveredPerSec', 'p50Us', 'p99Us', 'cpuUsPerMsg', 'rssPerActorMb'] as const;

describe('scale benchmark: when a side is steady', () => {
  it('is steady once its last 5 warm-ups set no delivered rate more than 10 % above the best before them', () => {
    expect(steadyAfter([100, 200, 300, 310, 320])).to.equal(false); // too few to tell
    expect(steadyAfter([100, 150, 160, 170, 210, 230, 205])).to.equal(false); // still climbing
    expect(steadyAfter([100, 200, 205, 215, 190, 170, 219])).to.equal(true);
    expect(steadyAfter([300, 200, 210, 250, 240, 290])).to.equal(true); // an early high is the bar
  });
});

describe('scale benchmark: its core at a tiny size', function () {
  // ~10 s on a quiet machine (about 30 threads started and stopped); a busy one gets more.
  this.timeout(120_000);
  let r: ScaleResult;
  let threadsBefore: number;
  let threadsAfter: number;
  let resourcesBefore: Record<string, number>;
  let resourcesAfter: Record<string, number>;

  before(async () => {
    // libuv starts its thread pool on first use: make sure that has happened before threads are counted.
    await readFile(fileURLToPath(import.meta.url));
    threadsBefore = threadCount();
    resourcesBefore = activeResources();
    r = await runScale(PLAN);
    // An Immediate queued in the run's last turn runs in the next one: what is left after a few turns is a leak.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    threadsAfter = threadCount();
    resourcesAfter = activeResources();
  });

  const sides = (): Array<[string, SideResult]> => r.results.flatMap((t) => [[`${t.topology}/ringmaster`, t.ringmaster] as [string, SideResult], [`${t.topology}/postMessage`, t.postMessage] as [string, SideResult]]);

  it('delivers every message of every run, warm-up included, on both sides', () => {
    const want = { 'fan-in': 5 * 40, pipeline: 300, 'random-pairs': 6 * 50, 'random-pairs-max': 6 * 50 };
    for (const t of r.results) {
      for (const s of [t.ringmaster, t.postMessage]) {
        expect(s.runs).to.have.length(1);
        expect(s.warmUps).to.have.length(2);
        expect(s.steady, t.topology).to.equal(false); // cut at warmUpMaxMs 0: 2 warm-ups cannot show a steady rate
        expect(s.cold, t.topology).to.equal(t.topology.startsWith('random-pairs') ? s.warmUps[1] : s.warmUps[0]);
        for (const run of [...s.warmUps, ...s.runs]) expect(run.delivered, t.topology).to.equal(run.expected);
        expect(s.runs[0]!.expected, t.topology).to.equal(want[t.topology]);
      }
    }
    // The first random-pairs warm-up sends one message from every actor to each of its 3 peers.
    expect(r.results[2]!.ringmaster.warmUps.map((w) => w.expected)).to.deep.equal([6 * 3, 6 * 50]);
    expect(r.results[3]!.ringmaster.warmUps.map((w) => w.expected)).to.deep.equal([6 * 3, 6 * 50]);
    expect(r.results[3]!.offeredPerSec, 'flat out').to.equal(0);
  });

  it('gives a result shaped as bench/results/scale.json', () => {
    expect(r.node).to.equal(process.version);
    expect(r.cpus).to.be.a('number').and.greaterThan(0);
    expect(r.startMs200).to.be.greaterThan(0);
    expect(r.bareStartMs200).to.be.greaterThan(0);
    expect(r.results.map((t) => t.topology)).to.deep.equal(['fan-in', 'pipeline', 'random-pairs', 'random-pairs-max']);
    expect(r.results.map((t) => t.actors)).to.deep.equal([6, 3, 6, 6]);
    for (const [name, s] of sides()) {
      for (const f of FIGURES) expect(s[f], `${name} ${f}`).to.be.a('number').and.satisfy(Number.isFinite);
      expect(s.deliveredPerSec, name).to.be.greaterThan(0);
      expect(s.p99Us, name).to.be.at.least(s.p50Us);
      expect(s.crashes, name).to.equal(0);
    }
    // It survives the trip to JSON as it is.
    expect(JSON.parse(JSON.stringify(r))).to.deep.equal(r);
  });

  it('stops every system and worker it started and leaves no timer', () => {
    expect(threadsAfter).to.be.at.most(threadsBefore);
    const left = grown(resourcesBefore, resourcesAfter);
    expect((left.Timeout ?? 0) + (left.Immediate ?? 0), JSON.stringify(left)).to.equal(0);
  });
});
