import { expect } from 'chai';
import { ActorCrashedError, startHttp } from '../../src/index.js';
import type { CrashMsg } from '../fixtures/actors/crasher.js';
import { actors, find, Systems, until } from './system-helpers.js';

/** The crasher fixture's own file, compiled or (with source maps) as written. */
const CRASHER_LINE = /fixtures\/actors\/crasher\.(js|ts):\d+/;

describe('a crash carries the stack of what the actor threw (real workers)', function () {
  this.timeout(30_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it("gives the ask's ActorCrashedError a cause whose stack points at the actor's line, and the crashed event and lastCrash the same stack", async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] });
    const err = await system
      .ref<CrashMsg>('c')
      .ask({ op: 'throw', message: 'kaput' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ActorCrashedError);
    const cause = (err as ActorCrashedError).cause as Error;
    expect(cause).to.be.instanceOf(Error);
    expect(cause.message).to.equal('kaput');
    expect(cause.stack).to.match(CRASHER_LINE);

    const crashed = await until(() => find(events, 'crashed', 'c'), 'the crashed event');
    expect(crashed.stack).to.equal(cause.stack);
    const status = system.status().find((s) => s.id === 'c')!;
    expect(status.lastCrash?.stack).to.equal(cause.stack);

    // And /api/actors/:id, which the dashboard's crash detail reads.
    const http = await startHttp(system, { port: 0 });
    try {
      const body = (await (await fetch(`${http.url}/api/actors/c`)).json()) as { status: { lastCrash?: { stack?: string } } };
      expect(body.status.lastCrash?.stack).to.equal(cause.stack);
    } finally {
      await http.close();
    }
  });

  it("carries the error's cause chain across: on ActorCrashedError.cause.cause, and as Caused by: lines in the crash's stack", async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] });
    const err = (await system
      .ref<CrashMsg>('c')
      .ask({ op: 'throw-wrapped', message: 'saving failed', cause: 'disk full' })
      .catch((e: unknown) => e)) as ActorCrashedError;
    const thrown = err.cause as Error;
    expect(thrown.message).to.equal('saving failed');
    const inner = thrown.cause as Error;
    expect([inner.name, inner.message]).to.deep.equal(['TypeError', 'disk full']);
    expect(inner.stack).to.match(CRASHER_LINE);
    expect((inner.cause as Error).message, 'a thrown non-Error cause arrives as an Error of its text').to.equal('the root');
    const crashed = await until(() => find(events, 'crashed', 'c'), 'the crashed event');
    expect(crashed.stack).to.match(/^Error: saving failed\n/);
    expect(crashed.stack).to.include('\nCaused by: TypeError: disk full\n');
    expect(crashed.stack).to.match(/\nCaused by: Error: the root$/);
  });

  it('crashes and restarts on an error whose cause has no prototype (it is described, not stringified)', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher'), backoff: { min: 10, max: 10 } }] });
    const err = (await system.ref<CrashMsg>('c').ask({ op: 'throw-odd' }).catch((e: unknown) => e)) as ActorCrashedError;
    expect(err).to.be.instanceOf(ActorCrashedError);
    expect(((err.cause as Error).cause as Error).message).to.equal('[Object {"why":"no prototype"}]');
    await until(() => find(events, 'restarted', 'c'), 'the restart');
    expect(await system.ref<CrashMsg>('c').ask({ op: 'echo', value: 1 })).to.equal(1);
  });

  it('has no stack for a crash that threw nothing (the thread exited)', async () => {
    const { system, events } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] });
    system.ref<CrashMsg>('c').tell({ op: 'exit', code: 3 });
    const crashed = await until(() => find(events, 'crashed', 'c'), 'the crashed event');
    expect(crashed.cause).to.equal('exit');
    expect(crashed).not.to.have.property('stack');
    expect(system.status().find((s) => s.id === 'c')!.lastCrash).not.to.have.property('stack');
  });
});
