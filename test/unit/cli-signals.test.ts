import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { REPEAT_WINDOW_MS, STOP_SIGNALS, stopRequests } from '../../src/cli/signals.js';

describe('ringmaster start: stop requests (fake signals, fake clock)', () => {
  let source: EventEmitter;
  let now: number;
  let forced: string[];
  let requests: ReturnType<typeof stopRequests> | null;
  beforeEach(() => {
    source = new EventEmitter();
    now = 0;
    forced = [];
    requests = null;
  });
  afterEach(() => requests?.dispose());

  const listen = (): ReturnType<typeof stopRequests> =>
    (requests = stopRequests(
      (s) => forced.push(s),
      { on: (s, l) => source.on(s, l), off: (s, l) => source.off(s, l) },
      () => now,
    ));
  const send = (signal: NodeJS.Signals): boolean => source.emit(signal, signal);

  it('takes SIGINT, SIGTERM and SIGHUP each as a request to stop', async () => {
    for (const signal of STOP_SIGNALS) {
      const r = listen();
      expect(r.first).to.equal(null);
      send(signal);
      expect(r.first).to.equal(signal);
      expect(await r.requested).to.equal(signal);
      r.dispose();
    }
    expect(forced).to.deep.equal([]);
  });

  it('forces on a different second signal at once, and on the same one only after the repeat window', () => {
    listen();
    send('SIGINT');
    now += REPEAT_WINDOW_MS - 1;
    send('SIGINT'); // the terminal's Ctrl-C passed on by npm
    expect(forced).to.deep.equal([]);
    now += 1;
    send('SIGINT');
    expect(forced).to.deep.equal(['SIGINT']);
    send('SIGTERM');
    expect(forced).to.deep.equal(['SIGINT', 'SIGTERM']);
  });

  it('a request by reason (the parent is gone) counts as the first; a signal after it forces', async () => {
    const r = listen();
    r.request('its parent process is gone');
    r.request('another reason');
    expect(await r.requested).to.equal('its parent process is gone');
    send('SIGTERM');
    expect(forced).to.deep.equal(['SIGTERM']);
  });

  it('stops listening once disposed', () => {
    const r = listen();
    r.dispose();
    for (const s of STOP_SIGNALS) expect(source.listenerCount(s), s).to.equal(0);
  });
});
