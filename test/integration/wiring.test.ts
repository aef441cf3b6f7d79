import { expect } from 'chai';
import type { Worker } from 'node:worker_threads';
import { Wiring } from '../../src/internal.js';
import { nextMessage, WorkerSet } from './helpers.js';

describe('wiring two worker threads', function () {
  this.timeout(60_000);
  const workers = new WorkerSet();
  afterEach(() => workers.terminateAll());

  function peer(wiring: Wiring, id: string, seen: string[]): Worker {
    const w = workers.start('endpoint-peer.js', wiring.register(id, { ringBytes: 64 * 1024 }));
    wiring.bind(id, w);
    w.on('message', (m: { type: string }) => seen.push(`${id}:${m.type}`));
    return w;
  }

  it('sends directly between workers after one ring request per pair; the main thread sees no data', async () => {
    const wiring = new Wiring();
    const seen: string[] = [];
    const a = peer(wiring, 'a', seen);
    const b = peer(wiring, 'b', seen);
    a.postMessage({ type: 'send', to: 'b', count: 20_000 });
    b.postMessage({ type: 'send', to: 'a', count: 5_000 });
    await Promise.all([nextMessage(a, 'sent'), nextMessage(b, 'sent')]);
    a.postMessage({ type: 'send', to: 'b', count: 1_000 }); // the pair is wired already
    await nextMessage(a, 'sent');
    const reportB = nextMessage<{ received: Record<string, number>; errors: string[] }>(b, 'report');
    const reportA = nextMessage<{ received: Record<string, number>; errors: string[] }>(a, 'report');
    b.postMessage({ type: 'report', expect: { a: 21_000 } });
    a.postMessage({ type: 'report', expect: { b: 5_000 } });
    const [rb, ra] = await Promise.all([reportB, reportA]);
    expect(rb).to.deep.equal({ type: 'report', received: { a: 21_000 }, errors: [] });
    expect(ra).to.deep.equal({ type: 'report', received: { b: 5_000 }, errors: [] });
    expect(seen.filter((s) => s.endsWith(':ring-request')).sort()).to.deep.equal(['a:ring-request', 'b:ring-request']);
    expect(seen.filter((s) => !/:(ring-request|sent|report)$/.test(s))).to.deep.equal([]);
  });

  it('refuses a ring to an unknown receiver with ERR_NO_SUCH_ACTOR', async () => {
    const wiring = new Wiring();
    const a = peer(wiring, 'a', []);
    a.postMessage({ type: 'send', to: 'ghost', count: 1 });
    const failed = await nextMessage<{ code: string; message: string }>(a, 'send-failed');
    expect(failed.code).to.equal('ERR_NO_SUCH_ACTOR');
    expect(failed.message).to.match(/'ghost'/);
  });

  it('hands a restarted receiver the rings it had, with the messages still unread in them', async () => {
    const wiring = new Wiring();
    const a = peer(wiring, 'a', []);
    const first = peer(wiring, 'b', []);
    await first.terminate();
    wiring.unbind('b');
    a.postMessage({ type: 'send', to: 'b', count: 300 }); // b is down: frames wait in the ring
    await nextMessage(a, 'sent');
    const again = workers.start('endpoint-peer.js', wiring.switchboard.describe('b'));
    wiring.bind('b', again);
    const report = nextMessage<{ received: Record<string, number>; errors: string[] }>(again, 'report');
    again.postMessage({ type: 'report', expect: { a: 300 } });
    expect(await report).to.deep.equal({ type: 'report', received: { a: 300 }, errors: [] });
  });
});
