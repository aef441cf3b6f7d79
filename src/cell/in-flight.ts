import { InFlightPhase, type Liveness } from '../liveness/liveness.js';
import { RingReader, ringReadPos } from '../ring/ring.js';
import { countedLane } from '../transport/protocol.js';
import { MailboxGate } from '../transport/mailbox.js';
import type { CellServices } from './contract.js';
import { checkPoison, type PoisonMark } from './inbox-ops.js';

/**
 * What becomes of the message an incarnation took and did not release, once
 * its worker is gone (read only then: a worker still running could take
 * another message after a read). The liveness block names the frame (slot and
 * read position) and how far it got:
 *
 * - released already (the read position moved on): nothing;
 * - handled, everything it sent in rings: released here, never handed out again;
 * - not done (its handler ran, or returned with sends not all in rings):
 *   after a crash, one more death on it, and past `maxRedeliveries` it is
 *   dead-lettered as poison; after a stop that had to terminate the worker,
 *   no count. If it stays in the ring, the next incarnation handles it with
 *   `ctx.redelivered` true.
 *
 * `crash` is null for a deliberate stop (no poison count). Returns the new poison mark.
 */
export function settleInFlight(svc: CellServices, actor: string, live: Liveness, crash: Error | null, mark: PoisonMark, maxRedeliveries: number): PoisonMark {
  // An actor forgotten meanwhile (a dynamic child removed while it stopped) has no inbox left to settle anything in.
  if (!svc.wiring.switchboard.has(actor)) return mark;
  const inbox = svc.wiring.switchboard.describe(actor);
  const rings = inbox.rings;
  const old = live.redelivery();
  // A mark whose frame left the ring (taken as poison, or read by an incarnation that died elsewhere) is stale.
  if (old && rings.find((r) => r.slot === old.slot && ringReadPos(r.ring) === old.pos) === undefined) live.markRedelivery(-1, 0);
  const f = live.inFlight();
  if (!f) return mark;
  const ring = rings.find((r) => r.slot === f.slot);
  if (!ring || ringReadPos(ring.ring) !== f.pos) return mark;
  if (f.phase === InFlightPhase.sent) {
    const reader = new RingReader(ring.ring);
    if (reader.next()) reader.commit();
    if (countedLane(ring.lane)) new MailboxGate(inbox.doorbell).release(1);
    return mark;
  }
  const next = crash ? checkPoison(svc, actor, f.slot, crash, mark, maxRedeliveries) : mark;
  if (ringReadPos(ring.ring) === f.pos) live.markRedelivery(f.slot, f.pos);
  return next;
}
