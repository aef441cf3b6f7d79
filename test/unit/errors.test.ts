import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ErrorCodes, MessageTooLargeError, RingmasterError, RingCorruptError } from '../../src/index.js';

const readme = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('errors', () => {
  it('lists exactly the codes of src/errors.ts in the docs/errors.md table', () => {
    const documented = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).to.deep.equal(Object.keys(ErrorCodes).sort());
  });

  it('gives each error a code, a name and the cause it was given', () => {
    const cause = new Error('root');
    const e = new RingmasterError('ERR_DECODE', 'bad bytes', { cause });
    expect(e).to.be.instanceOf(Error);
    expect(e.code).to.equal('ERR_DECODE');
    expect(e.cause).to.equal(cause);
    const big = new MessageTooLargeError(2000, 1000, "message to 'risk'");
    expect([big.name, big.code, big.size, big.limit]).to.deep.equal(['MessageTooLargeError', 'ERR_MESSAGE_TOO_LARGE', 2000, 1000]);
    expect(new RingCorruptError('x', 16)).to.be.instanceOf(RingmasterError);
  });
});
