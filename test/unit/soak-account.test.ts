import { expect } from 'chai';
import { accountMessages } from '../../bench/lib/soak-account.js';
import { Ledger } from '../../bench/lib/soak-ledger.js';

/** The soak's account of one message to `a-1` handled (or dead-lettered) as given. */
function account(steps: (L: Ledger) => void) {
  const L = new Ledger();
  L.expectDirect({ id: 7, kind: 'tell', to: 'a-1', dyn: false, sentAt: performance.now() });
  steps(L);
  return accountMessages(L);
}

const handled = (L: Ledger, inc: number, redelivered: boolean): void =>
  L.onReport({ type: 'ack', id: 7, by: 'a-1', inc, from: '$system', topic: undefined, redelivered });
const poison = (L: Ledger): void => L.onDeadLetter({ kind: 'tell', from: '$system', to: 'a-1', id: 0, payload: { op: 'count', id: 7 }, reason: 'poison: worker exited with code 3', at: Date.now() });

describe('soak account: what the delivery guarantee allows beyond one handling', () => {
  it('takes a handling by a later incarnation marked redelivered', () => {
    const m = account((L) => {
      handled(L, 1, false);
      L.onEnded('a-1', 1, true);
      handled(L, 2, true);
    });
    expect(m.counts.duplicates).to.equal(0);
    expect(m.direct.handledAgainRedelivered).to.equal(1);
  });

  it('counts a second handling without the mark as a duplicate', () => {
    const m = account((L) => {
      handled(L, 1, false);
      L.onEnded('a-1', 1, true);
      handled(L, 2, false);
    });
    expect(m.counts.duplicates).to.equal(1);
    expect(m.duplicates[0]!.detail).to.equal('handled by a-1#1; handled by a-1#2');
  });

  it('takes a poison letter after a handling by an incarnation that then crashed, and no other', () => {
    const crashed = account((L) => {
      handled(L, 1, false);
      L.onEnded('a-1', 1, true);
      poison(L);
    });
    expect(crashed.counts.duplicates).to.equal(0);
    expect(crashed.counts.disallowed).to.equal(0);
    expect(crashed.direct.handledThenPoisoned).to.equal(1);
    const running = account((L) => {
      handled(L, 1, false);
      poison(L);
    });
    expect(running.counts.duplicates).to.equal(1);
  });
});

describe('soak account: what an unfinished outer message sent on', () => {
  it('counts an inner message of a relay that was dead-lettered as poison after a crash neither owed nor a phantom', () => {
    const L = new Ledger();
    L.expectDirect({ id: 7, kind: 'relay', to: 'a-1', dyn: false, inner: 8, sentAt: performance.now() });
    L.expectDirect({ id: 8, kind: 'relay-inner', to: 'a-2', dyn: false, outer: 7, sentAt: performance.now() });
    L.onEnded('a-1', 1, true);
    poison(L); // the relay's report was still to leave when a-1 crashed: no delivery of 7
    L.onReport({ type: 'ack', id: 8, by: 'a-2', inc: 1, from: 'a-1', topic: undefined, redelivered: false });
    const m = accountMessages(L);
    expect(m.counts.phantoms).to.equal(0);
    expect(m.counts.lost).to.equal(0);
    expect(m.direct.notOwed).to.equal(1);
  });
});
