import { expect } from 'chai';
import { AskTimeoutError, DEFAULT_ASK_TIMEOUT_MS } from '../../src/index.js';
import type { AskOutcome } from '../fixtures/actors/default-asker.js';
import type { EchoMsg } from '../fixtures/actors/echo.js';
import { actors, Systems } from './system-helpers.js';

describe("the system's askTimeoutMs inside actors (real workers)", function () {
  this.timeout(30_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it("times out an actor's ctx.ask to a peer that never answers after the system's askTimeoutMs, not the built-in default", async () => {
    const askTimeoutMs = 300;
    const { system } = await systems.start(
      {
        id: 'root',
        strategy: 'one_for_one',
        children: [
          { id: 'silent', module: actors('hang'), shutdown: 200 },
          { id: 'asker', module: actors('default-asker') },
        ],
      },
      { askTimeoutMs },
    );
    const got = await system.ref('asker').ask<AskOutcome>({ to: 'silent', msg: { op: 'never' } }, { timeout: 20_000 });
    const expected = new AskTimeoutError('silent', askTimeoutMs);
    expect({ name: got.name, code: got.code, timeoutMs: got.timeoutMs }).to.deep.equal({ name: expected.name, code: expected.code, timeoutMs: askTimeoutMs });
    // The bundled host and the actor's module share errors.js: the error is an instance of the class the module imported.
    expect(got.instanceOf, 'err instanceof AskTimeoutError inside the actor').to.equal(true);
    // An upper bound only, well clear of a slow machine: the built-in default would take DEFAULT_ASK_TIMEOUT_MS.
    expect(got.elapsedMs).to.be.below(Math.min(3000, DEFAULT_ASK_TIMEOUT_MS));
  });
});

describe('a reply too large for the ring it must cross (real workers)', function () {
  this.timeout(30_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('settles the ask at once with MessageTooLargeError instead of leaving it to time out, and the actor serves on', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'e', module: actors('echo') }] });
    const ref = system.ref<EchoMsg>('e');
    expect(await ref.ask({ op: 'echo', value: 1 })).to.equal(1);
    const err = (await ref.ask({ op: 'big', n: 40_000 }, { timeout: 20_000 }).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).to.equal('ERR_MESSAGE_TOO_LARGE');
    expect(err.message).to.match(/exceeds the limit/);
    expect(await ref.ask({ op: 'echo', value: 2 })).to.equal(2);
  });
});
