import { expect } from 'chai';
import { pino } from 'pino';
import { defineActor } from '../../src/actor/define.js';
import { checkWatchId, readTerminated, WatchSet, type Terminated, type TerminatedNotice } from '../../src/actor/watch.js';
import type { ChildCell } from '../../src/cell/contract.js';
import type { ClusterNode } from '../../src/cluster/node.js';
import { decodeWatch, encodeWatch, type WatchWire } from '../../src/cluster/watches.js';
import { subjects } from '../../src/cluster/layout.js';
import { Codec, type Envelope } from '../../src/codec/envelope.js';
import { InvalidOptionError } from '../../src/errors.js';
import { HostWatches } from '../../src/host/watching.js';
import type { HostToMain } from '../../src/host/protocol.js';
import { EventHub } from '../../src/system/events.js';
import { WatchTable } from '../../src/system/watch-table.js';
import { SystemWatches } from '../../src/system/watches.js';

const stopped = (id: string, detail = 'normal'): Terminated => ({ type: 'terminated', id, reason: 'stopped', detail });

describe('watches (pure parts)', () => {
  it('WatchSet: watching twice is one watch, a notice ends its watch once, a stale or unwatched one is dropped', () => {
    const s = new WatchSet(2);
    const seq = s.watch('a');
    expect(seq).to.be.above(0);
    expect(s.watch('a')).to.equal(0);
    expect(s.take({ t: stopped('a'), seq: seq + 7, inc: 2 })).to.equal(null); // another watch's notice
    expect(s.take({ t: stopped('a'), seq, inc: 1 })).to.equal(null); // left in the inbox by an earlier incarnation
    expect(s.take({ t: stopped('a'), seq, inc: 2 })).to.deep.equal(stopped('a'));
    expect(s.take({ t: stopped('a'), seq, inc: 2 })).to.equal(null); // one-shot
    expect(s.unwatch('a')).to.equal(false); // after terminated: a no-op
    const again = s.watch('a');
    expect(again).to.not.equal(seq);
    expect(s.take({ t: stopped('a'), seq, inc: 2 })).to.equal(null); // the first watch's notice is stale for the second
    expect(s.unwatch('a')).to.equal(true);
    expect(s.take({ t: stopped('a'), seq: again, inc: 2 })).to.equal(null); // nothing after unwatch
    expect(s.size).to.equal(0);
  });

  it('checks ids and reads a Terminated from plain data only when it is one', () => {
    expect(() => checkWatchId('', 'ctx.watch(id)')).to.throw(InvalidOptionError, "ctx.watch(id) must be a non-empty actor id, got ''");
    expect(() => checkWatchId(3, 'system.watch(id)')).to.throw(InvalidOptionError, 'got number');
    expect(() => checkWatchId('me', 'ctx.watch(id)', 'me')).to.throw(InvalidOptionError, "actor 'me' cannot watch itself");
    expect(readTerminated(stopped('a'))).to.deep.equal(stopped('a'));
    const crashed = { type: 'terminated', id: 'a', reason: 'crashed', error: { message: 'x', cause: 'exception', code: 'E' } };
    expect(readTerminated(crashed)).to.deep.equal(crashed);
    expect(readTerminated({ ...crashed, error: 'x' })).to.equal(null);
    expect(readTerminated({ type: 'terminated', id: 'a', reason: 'node-down', detail: 'timeout' })).to.equal(null); // no node
    expect(readTerminated({ type: 'terminated', id: 'a', reason: 'exploded' })).to.equal(null);
    expect(readTerminated({ type: 'other', id: 'a', reason: 'stopped', detail: '' })).to.equal(null);
    expect(readTerminated(null)).to.equal(null);
  });

  it('a terminated envelope survives the codec (its own kind, on the system lane)', () => {
    const codec = new Codec();
    const notice: TerminatedNotice = { t: stopped('a', 'bye'), seq: 3, inc: 1 };
    const bytes = codec.encodeToBytes({ kind: 'terminated', from: '$system', to: 'w', id: 0, payload: notice, priority: 'system' });
    expect(codec.decode(bytes, 0, bytes.length, 'w')).to.deep.include({ kind: 'terminated', from: '$system', to: 'w', payload: notice, priority: 'system' });
  });

  it('HostWatches: posts one watch per id and an unwatch only for a watched id; refuses an actor without onTerminated', () => {
    const posted: HostToMain[] = [];
    const got: Terminated[] = [];
    const def = defineActor({ init: () => 0, receive: () => undefined, onTerminated: (_s, t) => void got.push(t) });
    const h = new HostWatches('w', 1, def, (m) => posted.push(m));
    h.watch('a');
    h.watch('a');
    h.unwatch('b');
    expect(posted).to.deep.equal([{ type: 'watch', target: 'a', seq: 1 }]);
    h.deliver({ t: stopped('a'), seq: 1, inc: 1 }, def, 0, {} as never);
    h.deliver({ t: stopped('a'), seq: 1, inc: 1 }, def, 0, {} as never);
    expect(got).to.deep.equal([stopped('a')]);
    h.unwatch('a'); // after terminated: nothing to tell the main thread
    expect(posted).to.have.length(1);
    const bare = new HostWatches('u', 1, defineActor({ init: () => 0, receive: () => undefined }), () => {});
    expect(() => bare.watch('a')).to.throw(InvalidOptionError, "actor 'u' has no onTerminated(state, msg, ctx)");
    expect(() => defineActor({ init: () => 0, receive: () => undefined, onTerminated: 1 as never })).to.throw(InvalidOptionError, 'onTerminated must be a function');
  });

  it('WatchTable: one-shot by target, dropped by watcher, and by node', () => {
    const t = new WatchTable();
    t.add('w1', 'a', 1);
    t.add('w1', 'a', 2); // renumbered, still one watch
    t.add('w2', 'a', 1);
    t.add('w1', 'b', 3);
    t.add('w1', 'r', 4, { targetNode: 'n2' });
    t.add('x9', 'a', 5, { watcherNode: 'n3' });
    expect(t.size).to.equal(5);
    expect(t.ended('a')).to.deep.equal([
      { watcher: 'w1', target: 'a', seq: 2 },
      { watcher: 'w2', target: 'a', seq: 1 },
      { watcher: 'x9', target: 'a', seq: 5, watcherNode: 'n3' },
    ]);
    expect(t.ended('a')).to.deep.equal([]);
    expect(t.watcherNode('x9')).to.equal(undefined); // no watches left: forgotten
    expect(t.dropWatcher('w1')).to.deep.equal([
      { watcher: 'w1', target: 'b', seq: 3 },
      { watcher: 'w1', target: 'r', seq: 4, targetNode: 'n2' },
    ]);
    expect(t.size).to.equal(0);
    t.add('w1', 'r', 6, { targetNode: 'n2' });
    t.add('x9', 'a', 7, { watcherNode: 'n2' });
    t.add('w2', 'b', 8);
    expect(t.list()).to.deep.equal([
      { watcher: 'w1', target: 'r', node: 'n2' },
      { watcher: 'x9', target: 'a', node: 'n2' },
      { watcher: 'w2', target: 'b' },
    ]);
    expect(t.nodeDown('n2')).to.deep.equal({ fired: [{ watcher: 'w1', target: 'r', seq: 6 }], dropped: [{ watcher: 'x9', target: 'a', seq: 7 }] });
    expect(t.list()).to.deep.equal([{ watcher: 'w2', target: 'b' }]);
    expect(t.remove('w2', 'b')).to.equal(8);
    expect(t.remove('w2', 'b')).to.equal(undefined);
    expect(t.size).to.equal(0);
  });

  it('watch messages between nodes: encoded with the sender node, anything else refused', () => {
    const t: Terminated = { type: 'terminated', id: 'a', reason: 'crashed', error: { message: 'Error: x', cause: 'exception' } };
    const all: WatchWire[] = [
      { op: 'watch', watcher: 'w', target: 'a', seq: 1 },
      { op: 'unwatch', watcher: '$system@n1', target: 'a' },
      { op: 'terminated', watcher: 'w', target: 'a', seq: 2, t },
    ];
    for (const m of all) expect(decodeWatch(encodeWatch('n1', m))).to.deep.equal({ node: 'n1', m });
    expect(subjects('shop').watch('n2')).to.equal('rm.shop.c.n.n2.w');
    expect(decodeWatch(new Uint8Array([0xc1]))).to.equal(null);
    expect(decodeWatch(encodeWatch('bad node!', all[0]!))).to.equal(null);
    expect(decodeWatch(encodeWatch('n1', { ...all[0]!, seq: -1 } as WatchWire))).to.equal(null);
    expect(decodeWatch(encodeWatch('n1', { op: 'terminated', watcher: 'w', target: 'b', seq: 2, t }))).to.equal(null); // t is about another id
    expect(decodeWatch(encodeWatch('n1', { op: 'explode', watcher: 'w', target: 'a', seq: 2 } as never))).to.equal(null);
  });
});

describe('SystemWatches (the main thread registry, fake cells)', () => {
  type Fake = { incarnation: number; record: { state: string; retired: boolean } };
  const setup = (cluster: Partial<ClusterNode> | null = null) => {
    const cells = new Map<string, Fake>();
    const sent: Envelope[] = [];
    const events = new EventHub();
    const w = new SystemWatches({ cells: cells as unknown as Map<string, ChildCell>, send: (env) => sent.push(env), cluster: () => cluster as ClusterNode | null, log: pino({ level: 'silent' }), events });
    const cell = (id: string, state = 'running'): void => void cells.set(id, { incarnation: 1, record: { state, retired: false } });
    return { cells, sent, events, w, cell };
  };
  const watch = (target: string, seq: number): Extract<HostToMain, { type: 'watch' }> => ({ type: 'watch', target, seq });
  const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('1,000 short-lived watchers and 1,000 short-lived watched actors leave nothing behind', () => {
    const { w, cell, events, sent } = setup();
    cell('target');
    cell('w');
    for (let i = 0; i < 1000; i++) {
      cell(`kid-${i}`);
      w.fromActor(`kid-${i}`, watch('target', 1)); // a short-lived watcher
      w.fromActor('w', watch(`kid-${i}`, i + 1)); // a short-lived watched actor
      if (i % 2 === 0) events.emit({ type: 'stopped', actor: `kid-${i}`, incarnation: 1, reason: 'normal' });
      else events.emit({ type: 'crashed', actor: `kid-${i}`, incarnation: 1, cause: 'exception', reason: 'Error: x' });
    }
    expect(w.list()).to.deep.equal([]);
    expect(w.table.size).to.equal(0);
    expect(sent).to.have.length(1000);
    expect(sent.every((e) => e.kind === 'terminated' && e.to === 'w' && e.priority === 'system')).to.equal(true);
  });

  it('tells nobody who is ending, takes no watch from an incarnation that is ending, and no-such-actor for an unknown or retired id', () => {
    const { w, cell, cells, sent } = setup();
    cell('a');
    cell('dying', 'crashed');
    w.fromActor('dying', watch('a', 1));
    expect(w.list()).to.deep.equal([]);
    cell('gone');
    cells.get('gone')!.record.retired = true;
    w.fromActor('a', watch('gone', 1));
    w.fromActor('a', watch('ghost', 2));
    expect(sent.map((e) => (e.payload as TerminatedNotice).t)).to.deep.equal([
      { type: 'terminated', id: 'gone', reason: 'no-such-actor' },
      { type: 'terminated', id: 'ghost', reason: 'no-such-actor' },
    ]);
    cell('w');
    w.fromActor('w', watch('a', 3));
    cells.get('w')!.record.state = 'stopping';
    w.ended('a', stopped('a'));
    expect(sent).to.have.length(2); // w is stopping: not told
  });

  it('main-thread watches: listeners run after the call returns, once; the unwatch a watch returns drops it with its last listener', async () => {
    const { w, cell } = setup();
    cell('a');
    const heard: string[] = [];
    w.watchFromMain('ghost', (t) => heard.push(`1 ${t.reason}`));
    expect(heard).to.deep.equal([]);
    await flush();
    expect(heard).to.deep.equal(['1 no-such-actor']);
    const off1 = w.watchFromMain('a', () => heard.push('x'));
    const off2 = w.watchFromMain('a', () => heard.push('y'));
    off1();
    expect(w.list()).to.deep.equal([{ watcher: '$system', target: 'a' }]);
    off2();
    expect(w.list()).to.deep.equal([]);
    w.watchFromMain('a', (t) => heard.push(`2 ${t.reason}`));
    w.ended('a', stopped('a'));
    w.ended('a', stopped('a'));
    await flush();
    expect(heard).to.deep.equal(['1 no-such-actor', '2 stopped']);
  });

  it('across nodes: a watch of another node’s actor goes there, its answer is taken once, a stale one is dropped, node-down ends it', async () => {
    const out: Array<[string, WatchWire]> = [];
    const hosts: Record<string, { node: string; up: boolean }> = { r: { node: 'n2', up: true }, down: { node: 'n3', up: false } };
    const cluster = { node: 'n1', hostOf: (id: string) => hosts[id], watches: { send: (node: string, m: WatchWire) => out.push([node, m]) > 0 } };
    const { w, cell, sent, events } = setup(cluster as unknown as Partial<ClusterNode>);
    cell('w');
    cell('local');
    w.fromActor('w', watch('r', 1));
    w.fromActor('w', watch('down', 2));
    const heard: Terminated[] = [];
    w.watchFromMain('r', (t) => heard.push(t));
    expect(out).to.deep.equal([
      ['n2', { op: 'watch', watcher: 'w', target: 'r', seq: 1 }],
      ['n2', { op: 'watch', watcher: '$system@n1', target: 'r', seq: 1 }],
    ]);
    expect((sent[0]!.payload as TerminatedNotice).t).to.deep.equal({ type: 'terminated', id: 'down', reason: 'node-down', node: 'n3', detail: 'timeout' });
    const t = stopped('r', 'bye');
    w.fromNode('n9', { op: 'terminated', watcher: 'w', target: 'r', seq: 1, t }); // not the node it is on
    w.fromNode('n2', { op: 'terminated', watcher: 'w', target: 'r', seq: 9, t }); // not this watch
    expect(sent).to.have.length(1);
    w.fromNode('n2', { op: 'terminated', watcher: 'w', target: 'r', seq: 1, t });
    expect((sent[1]!.payload as TerminatedNotice).t).to.deep.equal({ ...t, node: 'n2' });
    // a watch from n2 of a local actor, and one of an id this node does not have
    w.fromNode('n2', { op: 'watch', watcher: 'x', target: 'local', seq: 4 });
    w.fromNode('n2', { op: 'watch', watcher: 'x', target: 'nope', seq: 5 });
    expect(out[2]).to.deep.equal(['n2', { op: 'terminated', watcher: 'x', target: 'nope', seq: 5, t: { type: 'terminated', id: 'nope', reason: 'no-such-actor' } }]);
    expect(w.list()).to.have.deep.members([
      { watcher: '$system', target: 'r', node: 'n2' },
      { watcher: 'x', target: 'local', node: 'n2' },
    ]);
    const before = out.length;
    events.emit({ type: 'node-down', node: 'n2', reason: 'left' });
    await flush();
    expect(heard).to.deep.equal([{ type: 'terminated', id: 'r', reason: 'node-down', node: 'n2', detail: 'left' }]);
    expect(w.list()).to.deep.equal([]);
    // told to n2 as well, in case it is alive: drop this node's watch there; your watcher's watch here is over
    expect(out.slice(before)).to.deep.equal([
      ['n2', { op: 'unwatch', watcher: '$system@n1', target: 'r' }],
      ['n2', { op: 'terminated', watcher: 'x', target: 'local', seq: 4, t: { type: 'terminated', id: 'local', reason: 'node-down', node: 'n1', detail: 'left' } }],
    ]);
    // a watcher that ends tells the other node to drop its watch there
    w.fromActor('w', watch('r', 6));
    events.emit({ type: 'crashed', actor: 'w', incarnation: 1, cause: 'exception', reason: 'Error: x' });
    expect(out.at(-1)).to.deep.equal(['n2', { op: 'unwatch', watcher: 'w', target: 'r' }]);
    expect(w.list()).to.deep.equal([]);
  });
});
