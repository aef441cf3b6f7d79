import { expect } from 'chai';
import { ApiServer } from '../../src/actor/rpc.js';
import type { Envelope } from '../../src/codec/envelope.js';

let nextId = 1;
/** A comlink APPLY request for `path(...args)`, as a proxy on another thread sends it. */
function call(path: string[], args: unknown[]): Envelope {
  const payload = { id: String(nextId++), type: 'APPLY', path, argumentList: args.map((value) => ({ type: 'RAW', value })) };
  return { kind: 'call', from: 'caller', to: 'callee', id: nextId, payload };
}

class Inner {
  #k = 5;
  get(): number {
    return this.#k;
  }
  fail(): never {
    throw new Error('inner fail');
  }
  /** Catches its own call's error: that is no crash. */
  tryOther(): string {
    try {
      this.fail();
    } catch {
      return 'caught';
    }
  }
}

class Account {
  #balance = 0;
  readonly nested = { twice: (n: number): number => n * 2 };
  readonly inner = new Inner();
  deposit(n: number): number {
    if (n <= 0) throw new RangeError(`deposit must be positive, got ${n}`);
    this.#balance += n;
    return this.#balance;
  }
  async later(n: number): Promise<number> {
    await Promise.resolve();
    if (n < 0) throw new RangeError('negative');
    return this.#balance + n;
  }
}

describe("ApiServer with apiErrors: 'crash'", () => {
  it('runs a class instance’s methods on the instance itself (#private fields work), nested objects too', async () => {
    const server = new ApiServer(new Account(), 'crash');
    expect(await server.handle(call(['deposit'], [5]))).to.deep.include({ type: 'RAW', value: 5 });
    expect(await server.handle(call(['deposit'], [2]))).to.deep.include({ type: 'RAW', value: 7 });
    expect(await server.handle(call(['later'], [1]))).to.deep.include({ type: 'RAW', value: 8 });
    expect(await server.handle(call(['nested', 'twice'], [4]))).to.deep.include({ type: 'RAW', value: 8 });
    // A nested class instance: its #private fields, and an error one of its methods catches from another.
    expect(await server.handle(call(['inner', 'get'], []))).to.deep.include({ type: 'RAW', value: 5 });
    expect(await server.handle(call(['inner', 'tryOther'], []))).to.deep.include({ type: 'RAW', value: 'caught' });
  });

  it('rejects with what a method threw or rejected with (the host turns that into the crash), and serves the next call', async () => {
    const server = new ApiServer(new Account(), 'crash');
    const thrown = await server.handle(call(['deposit'], [0])).catch((e: unknown) => e);
    expect(thrown).to.be.instanceOf(RangeError).with.property('message', 'deposit must be positive, got 0');
    const rejected = await server.handle(call(['later'], [-1])).catch((e: unknown) => e);
    expect(rejected).to.be.instanceOf(RangeError).with.property('message', 'negative');
    expect(await server.handle(call(['deposit'], [1]))).to.deep.include({ type: 'RAW', value: 1 });
  });

  it("with 'reply' (the default), answers a method's error inside the response instead", async () => {
    const server = new ApiServer(new Account());
    const response = (await server.handle(call(['deposit'], [0]))) as { type: string; name: string; value: { isError: boolean; value: { message: string } } };
    expect(response.type).to.equal('HANDLER');
    expect(response.name).to.equal('throw');
    expect(response.value.value.message).to.equal('deposit must be positive, got 0');
  });
});
