import { expect } from 'chai';
import { DecodeError, type RingmasterError } from '../../src/index.js';
import { actors, Systems } from './system-helpers.js';

const undecodable = (): Map<object, string> => new Map([[{ key: 1 }, 'value']]);

describe('messages that encode but cannot be decoded (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  afterEach(() => systems.stopAll());

  it('settle the ask at once with DecodeError and become dead letters naming their sender, in every direction', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('crasher') },
        { id: 'b', module: actors('echo') },
      ],
    });
    // main → actor: the actor cannot read the ask, and answers it with the reason
    const toActor = await system.ref('a').ask(undecodable(), { timeout: 30_000 }).catch((e: RingmasterError) => e);
    expect(toActor).to.be.instanceOf(Error);
    expect((toActor as RingmasterError).code).to.equal('ERR_DECODE');
    expect((toActor as Error).message).to.match(/ask \d+ from '\$system' to 'a' could not be decoded/);
    // actor → main: the reply cannot be read on the main thread
    const reply = await system.ref('a').ask({ op: 'undecodable' }, { timeout: 30_000 }).catch((e: Error) => e);
    expect(reply).to.be.instanceOf(DecodeError);
    expect((reply as Error).message).to.match(/reply \d+ from 'a' to '\$system' could not be decoded/);
    // actor → actor
    const between = await system.ref('a').ask<{ code: string; message: string }>({ op: 'ask-undecodable', to: 'b' }, { timeout: 30_000 });
    expect(between.code).to.equal('ERR_DECODE');
    expect(between.message).to.match(/from 'a' to 'b' could not be decoded/);
    const letters = system.deadLetters();
    expect(letters.map((l) => [l.from, l.to, l.kind])).to.deep.equal([
      ['$system', 'a', 'ask'],
      ['a', '$system', 'reply'],
      ['a', 'b', 'ask'],
    ]);
    expect(letters.every((l) => /could not be decoded/.test(l.reason))).to.equal(true);
    expect(system.status().filter((s) => s.kind === 'actor').map((s) => [s.id, s.state, s.incarnation])).to.deep.equal([
      ['a', 'running', 1],
      ['b', 'running', 1],
    ]);
  });

  it('settle the ask with DecodeError even when the actor dies before its own answer reaches the asker', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [{ id: 'a', module: actors('crasher') }],
    });
    const a = system.ref('a');
    const asked = a.ask(undecodable(), { timeout: 20_000 }).catch((e: RingmasterError) => e);
    a.tell({ op: 'exit', code: 7 });
    const err = (await asked) as RingmasterError;
    expect(err.code, err.message).to.equal('ERR_DECODE');
    expect(err.message).to.match(/ask \d+ from '\$system' to 'a' could not be decoded/);
    expect(system.deadLetters().map((l) => [l.from, l.to, l.kind])).to.deep.equal([['$system', 'a', 'ask']]);
  });
});
