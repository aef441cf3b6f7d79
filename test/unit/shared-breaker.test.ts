import { expect } from 'chai';
import { ActorCrashedError, ActorStoppedError, AskTimeoutError, CircuitOpenError, MailboxFullError } from '../../src/errors.js';
import { createDoorbell } from '../../src/ring/doorbell.js';
import { SharedBreaker, type Permit } from '../../src/transport/breaker.js';

const timeout = new AskTimeoutError('a', 10);

function permit(b: SharedBreaker, now: number): Permit {
  const p = b.admit('a', now);
  if (p instanceof CircuitOpenError) throw p;
  return p;
}

describe('SharedBreaker (an actor’s ask breaker in shared memory)', () => {
  it('is off until configured, and passes everything while off', () => {
    const b = new SharedBreaker(createDoorbell(4));
    expect(b.enabled).to.equal(false);
    for (let i = 0; i < 10; i++) b.settle(permit(b, 0), timeout, 0);
    expect(b.state).to.equal('closed');
  });

  it('opens after `failures` in a row; a success in between resets the count', () => {
    const b = new SharedBreaker(createDoorbell(4));
    b.configure({ failures: 3, resetMs: 100 });
    b.settle(permit(b, 0), timeout, 0);
    b.settle(permit(b, 0), new ActorCrashedError('a', 'exception', 'x', 1), 0);
    b.settle(permit(b, 0), undefined, 0);
    b.settle(permit(b, 0), timeout, 0);
    b.settle(permit(b, 0), timeout, 0);
    expect(b.state).to.equal('closed');
    b.settle(permit(b, 0), timeout, 5);
    expect(b.state).to.equal('open');
    const refused = b.admit('a', 50);
    expect(refused).to.be.instanceOf(CircuitOpenError);
    expect(refused).to.include({ state: 'open', nextProbeAt: 105 });
    expect(b.rejected).to.equal(1);
    expect(b.opened).to.equal(1);
  });

  it('lets exactly one probe through after resetMs; its success closes, its failure reopens', () => {
    const b = new SharedBreaker(createDoorbell(4));
    b.configure({ failures: 1, resetMs: 100 });
    b.settle(permit(b, 0), timeout, 0);
    const probe = permit(b, 100);
    expect(probe.probe).to.equal(true);
    expect(b.state).to.equal('half-open');
    expect(b.admit('a', 101)).to.be.instanceOf(CircuitOpenError).and.include({ state: 'half-open' });
    b.settle(probe, timeout, 110);
    expect(b.state).to.equal('open');
    expect(b.admit('a', 150)).to.be.instanceOf(CircuitOpenError);
    const second = permit(b, 210);
    b.settle(second, undefined, 220);
    expect(b.state).to.equal('closed');
    expect(b.opened).to.equal(2);
  });

  it('does not count the handler’s own errors or mailbox refusals as the actor failing', () => {
    const b = new SharedBreaker(createDoorbell(4));
    b.configure({ failures: 1, resetMs: 100 });
    b.settle(permit(b, 0), new Error('validation failed'), 0);
    b.settle(permit(b, 0), new MailboxFullError('a', 'fail', 'full'), 0);
    b.settle(permit(b, 0), new ActorStoppedError('a', 'stopped'), 0);
    expect(b.state).to.equal('closed');
  });

  it('is shared: a second view on the same doorbell sees the same state', () => {
    const bell = createDoorbell(4);
    const a = new SharedBreaker(bell);
    a.configure({ failures: 1, resetMs: 100 });
    a.settle(permit(a, 0), timeout, 0);
    expect(new SharedBreaker(bell).admit('a', 1)).to.be.instanceOf(CircuitOpenError);
  });
});
