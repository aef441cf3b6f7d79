import { expect } from 'chai';
import { keepsMemoryReducer, prepareWorkerIsolates } from '../../src/cell/isolates.js';

describe("V8's memory reducer in actors' isolates (src/cell/isolates.ts)", () => {
  it('is off by default and with RINGMASTER_MEMORY_REDUCER=off, kept with =on or when node was started with --memory-reducer', () => {
    expect(keepsMemoryReducer({}, [])).to.equal(false);
    expect(keepsMemoryReducer({}, ['--memory-reducer'])).to.equal(true);
    expect(keepsMemoryReducer({ RINGMASTER_MEMORY_REDUCER: 'on' }, [])).to.equal(true);
    expect(keepsMemoryReducer({ RINGMASTER_MEMORY_REDUCER: 'off' }, ['--max-old-space-size=512'])).to.equal(false);
    expect(keepsMemoryReducer({ RINGMASTER_MEMORY_REDUCER: 'off' }, ['--memory-reducer'])).to.equal(true);
    expect(keepsMemoryReducer({ RINGMASTER_MEMORY_REDUCER: 'off' }, ['--memory_reducer'])).to.equal(true);
  });

  it('refuses a value of RINGMASTER_MEMORY_REDUCER other than on or off, naming it', () => {
    expect(() => keepsMemoryReducer({ RINGMASTER_MEMORY_REDUCER: 'yes' }, [])).to.throw(/RINGMASTER_MEMORY_REDUCER.*must be 'on' or 'off', got 'yes'/);
  });

  it('decides once per process: asking again gives the same answer', () => {
    const first = prepareWorkerIsolates();
    expect(prepareWorkerIsolates()).to.equal(first);
    expect(first).to.equal(!keepsMemoryReducer(process.env, process.execArgv));
  });
});
