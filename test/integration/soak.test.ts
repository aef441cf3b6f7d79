import { expect } from 'chai';
import type { CheckId } from '../../bench/lib/soak-checks.js';
import { runSoak, type SoakResult } from '../../bench/lib/soak-run.js';

/** A fixed plan: the seed's tree and timeline (npm run soak with SOAK_SEED=20260611 SOAK_SECONDS=25 SOAK_ACTORS=6 SOAK_SENDER_SLOTS=40 replays it). */
const SEED = 20260611;
const SECONDS = 25;
const ACTORS = 6;
/**
 * Well above what the live senders into the hub take at once (the main
 * thread's two lanes, mail and replies from the 6 static actors and the
 * victim, the few dynamic children alive at a time: about 25 slots), well
 * below the dynamic children the run starts, each of which writes to the hub.
 * Slots that outlive their senders run out before the end; reclaimed ones never do.
 */
const SENDER_SLOTS = 40;

describe('soak: a seeded chaos run', function () {
  // 25 s of chaos, then up to 10 s for the longest ask and up to 30 s of settling, the stop and 1 s to
  // look for leftovers: about 70 s at worst on a quiet machine, so a slow one gets three times that.
  this.timeout(240_000);
  let r: SoakResult;

  before(async () => {
    r = await runSoak({ seed: SEED, seconds: SECONDS, actors: ACTORS, senderSlots: SENDER_SLOTS, roundSeconds: 5 });
  });

  const holds = (id: CheckId): void => {
    const c = r.checks.find((x) => x.id === id)!;
    expect(c.ok, `${c.name}: ${c.detail}`).to.equal(true);
  };

  it('covers every fault kind, reloads both ways and the escalation (the seed plans them)', () => {
    for (const kind of ['throw', 'reject', 'exit', 'hang', 'oom', 'poison', 'undecodable', 'operator-restart', 'stop-start']) expect(r.faults.faults[kind] ?? 0, kind).to.be.greaterThan(0);
    expect(r.reloads.filter((x) => x.valid).length).to.be.greaterThan(0);
    expect(r.reloads.filter((x) => !x.valid).length).to.be.greaterThan(0);
    expect(r.escalation).to.not.equal(null);
    expect(r.faults.spawns.ok).to.be.greaterThan(SENDER_SLOTS);
  });

  it('delivers every message with an id exactly once, or dead-letters it with a reason', () => {
    holds('tells-accounted');
    expect(r.messages.lost).to.deep.equal([]);
  });

  it('handles no message twice, but by a later incarnation that gets it marked ctx.redelivered', () => {
    holds('no-duplicates');
    expect(r.messages.duplicates).to.deep.equal([]);
  });

  it('dead-letters only where the design does: a crash, a stopped actor, an undecodable frame (never for want of a sender slot)', () => {
    holds('dead-letter-reasons');
  });

  it('settles every ask: resolved with its own answer, or rejected with a coded RingmasterError', () => {
    holds('asks-settled');
  });

  it('fails an ask whose message crashes its receiver, or cannot be decoded, with that reason rather than by its timeout', () => {
    holds('asks-fail-fast');
  });

  it('applies a valid reload exactly (a new config reaches the actor), and refuses an invalid one whole with InvalidTreeError', () => {
    holds('reloads');
  });

  it('escalates a supervisor past its restart intensity, and its parent brings it back', () => {
    holds('escalation');
  });

  it('runs the whole plan: no escalation reaches the root', () => {
    holds('ran-to-end');
  });

  it('never counts the time an incarnation spent booting against its heartbeat', () => {
    holds('no-boot-heartbeat-kills');
  });

  it('leaves no worker thread behind once system.stop() has resolved', () => {
    holds('no-worker-threads');
  });

  it('leaves no timer behind once system.stop() has resolved', () => {
    holds('no-timers');
  });

  it('keeps RSS and shared memory flat across rounds', () => {
    holds('memory-flat');
  });
});
