import { expect } from 'chai';
import { EscalationError } from '../../src/index.js';
import { RestartBackoff } from '../../src/supervisor/budget.js';
import type { ExitInfo, SupervisedChild } from '../../src/supervisor/child.js';
import { Supervisor, type SupervisorEvent } from '../../src/supervisor/runtime.js';
import { resolveTree } from '../../src/supervisor/resolve.js';
import type { ResolvedSupervisorSpec, RestartType } from '../../src/supervisor/spec.js';

/** A child whose life is scripted by the test; it logs every start and stop. */
class FakeChild implements SupervisedChild {
  onExit: (info: ExitInfo) => void = () => {};
  backoff: RestartBackoff | null = null;
  incarnation = 0;
  failStarts = 0;
  retired = false;
  running = false;
  constructor(
    readonly id: string,
    readonly log: string[],
    readonly restart: RestartType = 'permanent',
    readonly significant = false,
  ) {}
  readonly shutdown = 100;
  alive(): boolean {
    return this.running;
  }
  async start(): Promise<void> {
    await Promise.resolve();
    if (this.failStarts > 0) {
      this.failStarts--;
      this.log.push(`fail-start ${this.id}`);
      throw new Error(`${this.id} cannot start`);
    }
    this.incarnation++;
    this.running = true;
    this.retired = false;
    this.log.push(`start ${this.id}#${this.incarnation}`);
  }
  async stop(): Promise<void> {
    await Promise.resolve();
    if (!this.running) return;
    this.running = false;
    this.log.push(`stop ${this.id}`);
  }
  retire(): void {
    this.retired = true;
  }
  uptimeMs(): number {
    return 0;
  }
  markBackingOff(): void {}
  crash(): void {
    this.running = false;
    this.onExit({ normal: false, cause: 'exception', reason: 'boom', incarnation: this.incarnation });
  }
  exitNormally(): void {
    this.running = false;
    this.onExit({ normal: true, reason: 'done', incarnation: this.incarnation });
  }
}

function tree(strategy: string, extra: Record<string, unknown> = {}): ResolvedSupervisorSpec {
  return resolveTree({ id: 'sup', strategy, children: [], ...extra });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function make(strategy: string, ids: string[], extra: Record<string, unknown> = {}) {
  const log: string[] = [];
  const events: SupervisorEvent[] = [];
  const sup = new Supervisor(tree(strategy, extra), (e) => events.push(e));
  const kids = ids.map((id) => new FakeChild(id, log));
  for (const k of kids) sup.adopt(k);
  return { sup, kids, log, events };
}

describe('supervisor strategies (scripted children)', () => {
  it('starts children in order and stops them in reverse', async () => {
    const { sup, log } = make('one_for_one', ['a', 'b', 'c']);
    await sup.start();
    await sup.stop('bye', false);
    expect(log).to.deep.equal(['start a#1', 'start b#1', 'start c#1', 'stop c', 'stop b', 'stop a']);
  });

  it('one_for_one restarts only the crashed child', async () => {
    const { sup, kids, log } = make('one_for_one', ['a', 'b', 'c']);
    await sup.start();
    log.length = 0;
    kids[1]!.crash();
    await settle();
    expect(log).to.deep.equal(['start b#2']);
    expect(kids.map((k) => k.incarnation)).to.deep.equal([1, 2, 1]);
  });

  it('one_for_all stops the others newest first, then restarts all in start order', async () => {
    const { sup, kids, log } = make('one_for_all', ['a', 'b', 'c']);
    await sup.start();
    log.length = 0;
    kids[1]!.crash();
    await settle();
    expect(log).to.deep.equal(['stop c', 'stop a', 'start a#2', 'start b#2', 'start c#2']);
  });

  it('rest_for_one restarts the crashed child and those started after it', async () => {
    const { sup, kids, log } = make('rest_for_one', ['a', 'b', 'c', 'd']);
    await sup.start();
    log.length = 0;
    kids[1]!.crash();
    await settle();
    expect(log).to.deep.equal(['stop d', 'stop c', 'start b#2', 'start c#2', 'start d#2']);
    expect(kids[0]!.incarnation).to.equal(1);
  });

  it('escalates past its intensity: stops every child newest first and reports itself crashed', async () => {
    const { sup, kids, log, events } = make('one_for_one', ['a', 'b'], { intensity: 2, period: 60_000 });
    const exits: ExitInfo[] = [];
    sup.onExit = (i) => exits.push(i);
    await sup.start();
    for (let i = 0; i < 3; i++) {
      kids[0]!.crash();
      await settle();
    }
    expect(log.at(-1)).to.equal('stop b'); // 'a' is already down
    expect(log.filter((l) => l.startsWith('start a'))).to.deep.equal(['start a#1', 'start a#2', 'start a#3']);
    expect(kids.every((k) => !k.running)).to.equal(true);
    expect(exits).to.have.length(1);
    expect(exits[0]!.cause).to.equal('escalated');
    expect(events.some((e) => e.type === 'escalated')).to.equal(true);
    expect(sup.state).to.equal('failed');
  });

  it('forgets restarts older than the period', async () => {
    const { sup, kids } = make('one_for_one', ['a'], { intensity: 1, period: 30 });
    const exits: ExitInfo[] = [];
    sup.onExit = (i) => exits.push(i);
    await sup.start();
    kids[0]!.crash();
    await settle();
    await new Promise((r) => setTimeout(r, 50));
    kids[0]!.crash();
    await settle();
    expect(exits).to.deep.equal([]);
    expect(kids[0]!.incarnation).to.equal(3);
  });

  it('treats restart types as OTP does', async () => {
    const log: string[] = [];
    const sup = new Supervisor(tree('one_for_one'), () => {});
    const perm = new FakeChild('perm', log, 'permanent');
    const trans = new FakeChild('trans', log, 'transient');
    const temp = new FakeChild('temp', log, 'temporary');
    [perm, trans, temp].forEach((k) => sup.adopt(k));
    await sup.start();
    perm.exitNormally(); // permanent: back even after a normal exit
    trans.exitNormally(); // transient: a normal exit is final
    temp.crash(); // temporary: never restarted, and removed
    await settle();
    expect([perm.incarnation, trans.incarnation, temp.incarnation]).to.deep.equal([2, 1, 1]);
    expect(trans.retired).to.equal(true);
    expect(sup.children.map((c) => c.id)).to.deep.equal(['perm', 'trans']);
    trans.running = true;
    trans.crash(); // transient: an abnormal exit is restarted
    await settle();
    expect(trans.incarnation).to.equal(2);
  });

  it('shuts itself down when a significant child ends (any_significant)', async () => {
    const log: string[] = [];
    const events: SupervisorEvent[] = [];
    const sup = new Supervisor(tree('one_for_one', { autoShutdown: 'any_significant', restart: 'transient' }), (e) => events.push(e));
    const worker = new FakeChild('worker', log);
    const job = new FakeChild('job', log, 'transient', true);
    sup.adopt(worker);
    sup.adopt(job);
    const exits: ExitInfo[] = [];
    sup.onExit = (i) => exits.push(i);
    await sup.start();
    job.exitNormally();
    await settle();
    expect(worker.running).to.equal(false);
    expect(exits).to.deep.equal([{ normal: true, reason: "auto_shutdown (any_significant) after significant child 'job' ended", incarnation: 1 }]);
    expect(events.map((e) => e.type)).to.include('auto-shutdown');
  });

  it('waits for every significant child with all_significant', async () => {
    const log: string[] = [];
    const sup = new Supervisor(tree('one_for_one', { autoShutdown: 'all_significant', restart: 'temporary' }), () => {});
    const j1 = new FakeChild('j1', log, 'transient', true);
    const j2 = new FakeChild('j2', log, 'transient', true);
    sup.adopt(j1);
    sup.adopt(j2);
    const exits: ExitInfo[] = [];
    sup.onExit = (i) => exits.push(i);
    await sup.start();
    j1.exitNormally();
    await settle();
    expect(exits).to.have.length(0);
    j2.exitNormally();
    await settle();
    expect(exits).to.have.length(1);
    expect(exits[0]!.normal).to.equal(true);
  });

  it('retries a child that fails to start, counting against the budget, then gives up', async () => {
    const { sup, kids } = make('one_for_one', ['a', 'b'], { intensity: 2 });
    kids[1]!.failStarts = 2;
    await sup.start();
    expect(kids[1]!.incarnation).to.equal(1);
    const { sup: sup2, kids: kids2, log } = make('one_for_one', ['a', 'b'], { intensity: 2 });
    kids2[1]!.failStarts = 5;
    let err: unknown;
    await sup2.start().catch((e) => (err = e));
    expect(err).to.be.instanceOf(EscalationError);
    expect((err as Error).message).to.match(/'b' failed to start/);
    expect(log.at(-1)).to.equal('stop a');
  });

  it('waits out the backoff before restarting, and a stop cancels the wait', async () => {
    const { sup, kids, events } = make('one_for_one', ['a']);
    kids[0]!.backoff = new RestartBackoff({ minMs: 40, maxMs: 1000, randomFactor: 0, resetAfterMs: 10_000 }, () => 0);
    await sup.start();
    kids[0]!.crash();
    await settle();
    expect(kids[0]!.incarnation).to.equal(1);
    expect(events.find((e) => e.type === 'restarting')).to.deep.include({ delayMs: 40 });
    await new Promise((r) => setTimeout(r, 80));
    expect(kids[0]!.incarnation).to.equal(2);
    kids[0]!.crash();
    await settle();
    expect(events.filter((e) => e.type === 'restarting').at(-1)).to.deep.include({ delayMs: 80 });
    await sup.stop('bye', false);
    await new Promise((r) => setTimeout(r, 100));
    expect(kids[0]!.incarnation).to.equal(2);
  });

  it('ignores the exit of an incarnation that was already replaced', async () => {
    const { sup, kids, log } = make('one_for_all', ['a', 'b']);
    await sup.start();
    log.length = 0;
    kids[0]!.crash();
    const stale = { normal: false, cause: 'exception' as const, reason: 'late news', incarnation: 1 };
    kids[1]!.onExit(stale); // b's first incarnation, reported after a's crash took everyone down
    await settle();
    expect(log).to.deep.equal(['stop b', 'start a#2', 'start b#2']);
  });

  it('does not hold siblings up while one child waits out its backoff', async () => {
    const { sup, kids } = make('one_for_one', ['slow', 'quick']);
    kids[0]!.backoff = new RestartBackoff({ minMs: 60_000, maxMs: 60_000, randomFactor: 0, resetAfterMs: 10_000 }, () => 0);
    await sup.start();
    kids[0]!.crash();
    kids[1]!.crash();
    await settle();
    expect([kids[0]!.incarnation, kids[1]!.incarnation]).to.deep.equal([1, 2]);
    await sup.stop('bye', false);
  });

  it('refuses a dynamic child that fails to start without spending the budget', async () => {
    const { sup, events } = make('one_for_one', ['a'], { intensity: 0 });
    await sup.start();
    const bad = new FakeChild('bad', []);
    bad.failStarts = 1;
    const err = await sup.spawn(bad).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect(sup.children.map((c) => c.id)).to.deep.equal(['a']);
    expect(sup.state).to.equal('running');
    expect(events.some((e) => e.type === 'escalated')).to.equal(false);
  });
});
