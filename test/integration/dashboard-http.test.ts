import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ActorSystem } from '../../src/index.js';
import { startHttp, type HttpOptions, type HttpServer } from '../../src/http/server.js';
import { actors, Systems } from './system-helpers.js';

interface Message {
  event?: string;
  retry?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: any;
}

/** A client of /api/live that reads one SSE message at a time; `next()` gives null once the server ended the stream. */
async function openLive(url: string): Promise<{ res: Response; next: () => Promise<Message | null>; cancel: () => Promise<void> }> {
  const res = await fetch(`${url}/api/live`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<Message | null> => {
    while (!buffer.includes('\n\n')) {
      const { done, value } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
    }
    const end = buffer.indexOf('\n\n');
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    const m: Message = {};
    for (const line of block.split('\n')) {
      const colon = line.indexOf(': ');
      const [field, value] = [line.slice(0, colon), line.slice(colon + 2)];
      if (field === 'event') m.event = value;
      else if (field === 'data') m.data = JSON.parse(value);
      else if (field === 'retry') m.retry = Number(value);
    }
    return m;
  };
  return { res, next, cancel: () => reader.cancel() };
}

describe('dashboard routes and live feed over HTTP (real workers)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  const servers: HttpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await systems.stopAll();
  });

  async function boot(options: HttpOptions = {}): Promise<{ system: ActorSystem; http: HttpServer }> {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('echo') },
        { id: 'c', module: actors('crasher'), maxRedeliveries: 0 },
      ],
    });
    const http = await startHttp(system, options);
    servers.push(http);
    return { system, http };
  }

  it('serves the page, its files and uPlot from the package, with a strict content security policy', async () => {
    const { http } = await boot();
    const page = await fetch(`${http.url}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).to.include("default-src 'none'").and.include("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
    const html = await page.text();
    for (const file of ['dashboard.js', 'dashboard.css', 'uPlot.iife.min.js', 'uPlot.min.css', 'favicon.svg']) {
      expect(html).to.include(`/dashboard/${file}`);
      const res = await fetch(`${http.url}/dashboard/${file}`);
      expect(res.status, file).to.equal(200);
      expect(res.headers.get('content-type'), file).to.match(/^(text\/javascript|text\/css|image\/svg\+xml)/);
      await res.arrayBuffer();
    }
    const uplot = await (await fetch(`${http.url}/dashboard/uPlot.iife.min.js`)).text();
    expect(uplot).to.equal(readFileSync(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    for (const path of ['/dashboard/nope.js', '/dashboard/..%2Fassets.js', '/dashboard/..%2F..%2F..%2F..%2Fpackage.json', '/dashboard/constructor']) {
      const res = await fetch(`${http.url}${path}`);
      expect(res.status, path).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('ERR_NOT_FOUND');
    }
  });

  it('streams a hello with the whole picture, then updates with the events as they happen', async () => {
    const { system, http } = await boot({ token: 'secret-token' });
    const live = await openLive(http.url);
    expect(live.res.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    const hello = (await live.next())!;
    expect(hello.retry).to.be.a('number').greaterThan(0);
    expect(hello.event).to.equal('hello');
    expect(hello.data).to.deep.include({ name: 'test', state: 'running', actions: { token: true, reload: false } });
    expect(hello.data.status.map((s: { id: string }) => s.id)).to.deep.equal(['root', 'a', 'c']);
    expect(hello.data.history.length).to.be.at.least(1);
    expect(hello.data.history[0].actors).to.have.keys('a', 'c');
    expect(hello.data.events).to.deep.equal([]);

    system.ref('c').tell({ op: 'throw', message: 'over the wire' });
    const seen: Array<{ type: string; actor?: string; reason?: string }> = [];
    while (!seen.some((e) => e.type === 'restarted')) {
      const m = (await live.next())!;
      expect(m.event).to.equal('update');
      expect(m.data).to.have.keys('t', 'state', 'status', 'samples', 'events', 'dropped');
      seen.push(...m.data.events);
    }
    expect(seen.find((e) => e.type === 'crashed')).to.deep.include({ actor: 'c', reason: 'Error: over the wire' });
    await live.cancel();
  });

  it('HEAD /api/live answers the headers and ends', async () => {
    const { http } = await boot();
    const res = await fetch(`${http.url}/api/live`, { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
  });

  it('close() ends open live streams itself, so it does not wait for them', async () => {
    const { http } = await boot();
    const clients = await Promise.all([openLive(http.url), openLive(http.url)]);
    for (const c of clients) expect((await c.next())!.event).to.equal('hello');
    servers.splice(servers.indexOf(http), 1);
    await http.close();
    // Ended by the feed (its last word is `closing`), not cut off with the socket when the grace period runs out.
    for (const c of clients) {
      const events: Array<string | undefined> = [];
      for (let m = await c.next(); m !== null; m = await c.next()) events.push(m.event);
      expect(events.at(-1)).to.equal('closing');
    }
  });

  it('leaves the page and the feed out with dashboard: false', async () => {
    const { http } = await boot({ dashboard: false });
    for (const path of ['/', '/dashboard/dashboard.js', '/api/live']) expect((await fetch(`${http.url}${path}`)).status, path).to.equal(404);
    expect((await fetch(`${http.url}/ready`)).status).to.equal(200);
  });
});
