import { expect } from 'chai';
import { defineActor, InvalidOptionError } from '../../src/index.js';

describe('defineActor', () => {
  it('refuses a definition without init and receive with a coded InvalidOptionError', () => {
    const bad = (): unknown => defineActor({ init: () => ({}) } as unknown as Parameters<typeof defineActor>[0]);
    expect(bad).to.throw(InvalidOptionError, /defineActor\(\) needs at least init\(ctx\) and receive\(state, msg, ctx\)/);
    expect(() => bad()).to.throw().with.property('code', 'ERR_INVALID_OPTION');
  });
});
