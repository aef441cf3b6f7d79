import { expect } from 'chai';
import type { SystemEvent } from '../../src/events.js';
import { EventHub } from '../../src/system/events.js';

describe('event hub', () => {
  it('delivers typed events to listeners and to every iterator, which end when the hub closes', async () => {
    const hub = new EventHub();
    const crashed: string[] = [];
    const all: string[] = [];
    const off = hub.on('crashed', (e) => crashed.push(`${e.actor}:${e.cause}`));
    hub.on('*', (e) => all.push(e.type));
    const it1 = hub.iterate();
    const it2 = hub.iterate();
    hub.emit({ type: 'started', actor: 'a', incarnation: 1 });
    hub.emit({ type: 'crashed', actor: 'a', incarnation: 1, cause: 'exit', reason: 'code 1' });
    off();
    hub.emit({ type: 'crashed', actor: 'b', incarnation: 1, cause: 'heartbeat', reason: 'stalled' });
    const pending = it1.next(); // asked before the next event exists
    hub.emit({ type: 'system-stopped', reason: 'bye' });
    hub.close();
    expect(crashed).to.deep.equal(['a:exit']);
    expect(all).to.deep.equal(['started', 'crashed', 'crashed', 'system-stopped']);
    const seen1: string[] = [];
    const first = await pending;
    seen1.push((first.value as SystemEvent).type);
    for await (const e of it1) seen1.push(e.type);
    const seen2: string[] = [];
    for await (const e of it2) seen2.push(e.type);
    expect(seen1).to.deep.equal(['started', 'crashed', 'crashed', 'system-stopped']);
    expect(seen2).to.deep.equal(seen1);
    expect((await hub.iterate().next()).done).to.equal(true);
  });
});
