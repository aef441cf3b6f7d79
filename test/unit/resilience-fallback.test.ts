import { expect } from 'chai';
import { Registry } from 'prom-client';
import { Fallback, type FallbackEvent } from '../../src/resilience/fallback.js';
import { fail, metricValue, rejection } from './resilience-helpers.js';

describe('resilience: fallback chain', () => {
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });
  const served = (by: string): Promise<number> => metricValue(registry, 'ringmaster_resilience_fallback_calls_total', { name: 'price', served_by: by });

  it('tries the primary, then each alternative in order, handing each the error before it', async () => {
    const order: string[] = [];
    const seen: string[] = [];
    const chain = new Fallback<string>({
      name: 'price',
      registry,
      alternatives: [
        ({ error }) => {
          order.push('replica');
          seen.push((error as Error).message);
          throw new Error('replica down');
        },
        ({ error }) => {
          order.push('cache');
          seen.push((error as Error).message);
          return 'cached';
        },
      ],
      value: 'default',
    });
    const events: FallbackEvent[] = [];
    chain.on('fallback-used', (e) => events.push(e));
    const result = await chain.execute(() => {
      order.push('primary');
      throw new Error('primary down');
    });
    expect(result).to.equal('cached');
    expect(order).to.deep.equal(['primary', 'replica', 'cache']);
    expect(seen).to.deep.equal(['primary down', 'replica down']);
    expect(events.map((e) => [e.to, e.index, (e.error as Error).message])).to.deep.equal([
      ['alternative', 1, 'primary down'],
      ['alternative', 2, 'replica down'],
    ]);
    expect(await served('alternative-2')).to.equal(1);
  });

  it('ends with the value when everything failed', async () => {
    const chain = new Fallback<number>({ name: 'price', registry, alternatives: [fail('b')], value: 0 });
    expect(await chain.execute(fail('a'))).to.equal(0);
    expect(await chain.execute(() => 42)).to.equal(42);
    expect([await served('value'), await served('primary')]).to.deep.equal([1, 1]);
  });

  it('throws the last error when there is no value', async () => {
    const chain = new Fallback<number>({ name: 'price', registry, alternatives: [fail('b'), fail('c')] });
    expect(((await rejection(chain.execute(fail('a')))) as Error).message).to.equal('c');
    expect(await served('none')).to.equal(1);
  });

  it('throws an error `handles` refuses at once, and does not fall back after the caller aborted', async () => {
    let alternativeRan = false;
    const alternative = (): string => {
      alternativeRan = true;
      return 'alt';
    };
    const chain = new Fallback<string>({ registry, alternatives: [alternative], handles: (e) => (e as Error).message !== 'bad request' });
    expect(((await rejection(chain.execute(fail('bad request')))) as Error).message).to.equal('bad request');
    const controller = new AbortController();
    controller.abort(new Error('caller left'));
    expect(((await rejection(chain.execute(({ signal }) => signal.throwIfAborted(), controller.signal))) as Error).message).to.equal('caller left');
    expect(alternativeRan).to.equal(false);
    expect(await chain.execute(fail('flaky'))).to.equal('alt');
  });

  it('rejects a chain with nothing to fall back to', () => {
    expect(() => new Fallback({})).to.throw('fallback.alternatives must hold at least one function when no value is given');
    expect(() => new Fallback({ alternatives: ['x' as unknown as () => void] })).to.throw('fallback.alternatives[0] must be a function, got "x"');
    expect(new Fallback({ value: undefined }).options.hasValue).to.equal(true);
  });
});
