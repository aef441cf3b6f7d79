import { expect } from 'chai';
import { defineActor, InvalidOptionError } from '../../src/index.js';

describe('defineActor', () => {
  it('refuses a definition without init and receive with a coded InvalidOptionError', () => {
    const bad = (): unknown => defineActor({ init: () => ({}) } as unknown as Parameters<typeof defineActor>[0]);
    expect(bad).to.throw(InvalidOptionError, /defineActor\(\) needs at least init\(ctx\) and receive\(state, msg, ctx\)/);
    expect(() => bad()).to.throw().with.property('code', 'ERR_INVALID_OPTION');
  });
});

describe('defineActor checks its optional hooks', () => {
  const base = { init: () => ({}), receive: () => undefined };
  it('refuses a hook that is not a function, naming it', () => {
    const bad = { ...base, onTopic: 'yes' } as unknown as Parameters<typeof defineActor>[0];
    expect(() => defineActor(bad)).to.throw(InvalidOptionError, 'defineActor() onTopic must be a function, got string');
  });
  it("refuses an apiErrors other than 'reply' or 'crash'", () => {
    const bad = { ...base, apiErrors: 'ignore' } as unknown as Parameters<typeof defineActor>[0];
    expect(() => defineActor(bad)).to.throw(InvalidOptionError, `defineActor() apiErrors must be 'reply' or 'crash', got "ignore"`);
  });
  it('keeps every hook it is given', () => {
    const onTopic = (): string => 't';
    const a = defineActor({ ...base, onTopic, apiErrors: 'crash' });
    expect(a.onTopic).to.equal(onTopic);
    expect(a.apiErrors).to.equal('crash');
  });
});
