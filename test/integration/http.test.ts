import { expect } from 'chai';
import { request, Agent } from 'node:http';
import { networkInterfaces } from 'node:os';
import { InvalidOptionError, type ActorSystem } from '../../src/index.js';
import { startHttp, type HttpOptions, type HttpServer } from '../../src/http/server.js';
import { actors, Systems, until } from './system-helpers.js';

const TOKEN = 'test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  const json = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}

const post = (url: string, headers: Record<string, string> = {}): Promise<Answer> => call(url, { method: 'POST', headers });

function expectError(a: Answer, status: number, code: string): void {
  expect(a.status, a.text).to.equal(status);
  expect(a.headers.get('content-type')).to.match(/^application\/json/);
  expect(a.json.error.code).to.equal(code);
  expect(a.json.error.message).to.be.a('string').that.does.not.equal('');
}

describe('HTTP endpoints (real workers, real HTTP)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  const servers: HttpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await systems.stopAll();
  });

  async function boot(options: HttpOptions = { token: TOKEN }): Promise<{ system: ActorSystem; http: HttpServer }> {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('echo') },
        { id: 'b', module: actors('echo') },
      ],
    });
    const http = await startHttp(system, options);
    servers.push(http);
    return { system, http };
  }

  it('listens on 127.0.0.1 on an ephemeral port by default, and nowhere else', async () => {
    const { http } = await boot();
    const url = new URL(http.url);
    expect(url.hostname).to.equal('127.0.0.1');
    expect(http.port).to.be.greaterThan(0);
    expect(Number(url.port)).to.equal(http.port);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const err = await fetch(`http://${external.address}:${http.port}/health`).catch((e: Error & { cause?: { code?: string } }) => e);
      expect((err as Error & { cause?: { code?: string } }).cause?.code).to.equal('ECONNREFUSED');
    }
  });

  it('GET /health answers the health report, and 503 once a permanent actor is stopped', async () => {
    const { system, http } = await boot();
    await system.ref('a').ask({ op: 'echo', value: 1 });
    // The reply leaves before the actor releases the message it answered.
    await until(() => system.status().find((s) => s.id === 'a')?.inboxDepth === 0, "a's inbox to empty");
    const ok = await call(`${http.url}/health`);
    expect(ok.status).to.equal(200);
    expect(ok.json).to.have.keys('status', 'timestamp', 'modules', 'aggregateMetrics');
    expect(ok.json.status).to.equal('healthy');
    expect(ok.json.aggregateMetrics).to.deep.equal({ totalModules: 2, healthyModules: 2 });
    const a = ok.json.modules.find((m: { moduleId: string }) => m.moduleId === 'a');
    expect(a).to.include({ moduleId: 'a', status: 'healthy', restarts: 0 });
    // The message last answered may still count in inboxDepth: it is released just after its reply goes out.
    expect(a.inboxDepth).to.be.within(0, 1);
    expect(a.uptime).to.be.a('number');
    expect(a.metrics).to.have.keys('cpu', 'eventLoopUtilization', 'memory');
    expect(a.metrics.eventLoopUtilization).to.be.within(0, 1);
    await system.stopActor('b');
    const down = await call(`${http.url}/health`);
    expect(down.status).to.equal(503);
    expect(down.json.status).to.equal('unhealthy');
    expect(down.json.modules.find((m: { moduleId: string }) => m.moduleId === 'b').status).to.equal('unhealthy');
  });

  it('GET /ready is 200 while running and 503 once the system stopped (as is /health)', async () => {
    const { system, http } = await boot();
    const ready = await call(`${http.url}/ready`);
    expect(ready.status).to.equal(200);
    expect(ready.json).to.deep.equal({ ready: true });
    await system.stop();
    const after = await call(`${http.url}/ready`);
    expect(after.status).to.equal(503);
    expect(after.json).to.deep.equal({ ready: false });
    expect((await call(`${http.url}/health`)).status).to.equal(503);
  });

  it('GET /metrics answers Prometheus text with the system’s and the process’s metrics', async () => {
    const { system, http } = await boot();
    for (let i = 0; i < 7; i++) await system.ref('a').ask({ op: 'echo', value: i });
    // The reply can arrive before the actor counts its message as finished.
    await until(() => system.metrics().actors.find((x) => x.id === 'a')!.received === 7, 'a to count 7 messages');
    const m = await call(`${http.url}/metrics`);
    expect(m.status).to.equal(200);
    expect(m.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(m.text).to.include('ringmaster_messages_received_total{actor="a",system="test"} 7');
    expect(m.text).to.include('ringmaster_handler_duration_seconds_count{actor="a",system="test"} 7');
    expect(m.text).to.include('ringmaster_actors{state="running",system="test"} 2');
    expect(m.text).to.include('# TYPE ringmaster_handler_duration_seconds histogram');
    expect(m.text).to.match(/^process_cpu_user_seconds_total\{system="test"\} /m);
    expect(m.text).not.to.include('ringmaster_config_reloads_total');
  });

  it('GET /api/tree answers the name, the resolved tree and every node’s status', async () => {
    const { http } = await boot();
    const t = await call(`${http.url}/api/tree`);
    expect(t.status).to.equal(200);
    expect(t.json.name).to.equal('test');
    expect(t.json.tree).to.include({ id: 'root', strategy: 'one_for_one', intensity: 3 });
    expect(t.json.tree.children.map((c: { id: string }) => c.id)).to.deep.equal(['a', 'b']);
    expect(t.json.status.map((s: { id: string }) => s.id)).to.deep.equal(['root', 'a', 'b']);
    expect(t.json.status[1]).to.include({ id: 'a', parent: 'root', kind: 'actor', state: 'running' });
  });

  it('GET /api/actors/:id answers status and metrics, 404 for an unknown id', async () => {
    const { system, http } = await boot();
    await system.ref('a').ask({ op: 'echo', value: 1 });
    await until(() => system.metrics().actors.find((x) => x.id === 'a')!.received === 1, 'a to count its message');
    const a = await call(`${http.url}/api/actors/a`);
    expect(a.status).to.equal(200);
    expect(a.json.status).to.include({ id: 'a', kind: 'actor', state: 'running', incarnation: 1 });
    expect(a.json.metrics).to.include({ id: 'a', received: 1, sent: 1, restarts: 0 });
    const root = await call(`${http.url}/api/actors/root`);
    expect(root.json.status).to.include({ id: 'root', kind: 'supervisor' });
    expect(root.json.metrics).to.equal(null);
    expectError(await call(`${http.url}/api/actors/nobody`), 404, 'ERR_NO_SUCH_ACTOR');
  });

  it('POST /api/actors/:id/restart restarts with the token, 401 without or with a wrong one', async () => {
    const { system, http } = await boot();
    const url = `${http.url}/api/actors/a/restart`;
    const none = await post(url);
    expectError(none, 401, 'ERR_UNAUTHORIZED');
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer/);
    expectError(await post(url, { authorization: 'Bearer not-the-token' }), 401, 'ERR_UNAUTHORIZED');
    expectError(await post(url, { authorization: TOKEN }), 401, 'ERR_UNAUTHORIZED');
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 1 });
    const done = await post(url, auth);
    expect(done.status, done.text).to.equal(200);
    expect(done.json.ok).to.equal(true);
    expect(done.json.status).to.include({ id: 'a', incarnation: 2, restarts: 1 });
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 2 });
    expectError(await post(`${http.url}/api/actors/nobody/restart`, auth), 404, 'ERR_NO_SUCH_ACTOR');
  });

  it('refuses every action with 403 when no token is configured', async () => {
    const { system, http } = await boot({});
    for (const path of ['/api/actors/a/restart', '/api/actors/a/stop']) {
      const a = await post(`${http.url}${path}`, auth);
      expectError(a, 403, 'ERR_FORBIDDEN');
      expect(a.json.error.message).to.include('token must be configured');
    }
    expect(system.status().find((s) => s.id === 'a')).to.include({ state: 'running', incarnation: 1 });
  });

  it('POST /api/actors/:id/stop stops the actor, and /health turns 503', async () => {
    const { system, http } = await boot();
    expectError(await post(`${http.url}/api/actors/b/stop`), 401, 'ERR_UNAUTHORIZED');
    const done = await post(`${http.url}/api/actors/b/stop`, auth);
    expect(done.status, done.text).to.equal(200);
    expect(done.json.status).to.include({ id: 'b', state: 'stopped' });
    expect(await system.ref('b').ask({ op: 'echo', value: 1 }).catch((e: Error) => e.name)).to.equal('ActorStoppedError');
    expect((await call(`${http.url}/health`)).status).to.equal(503);
  });

  it('POST /api/config/reload runs onReload with the token, and is 404 without onReload', async () => {
    let reloads = 0;
    const { http } = await boot({ token: TOKEN, onReload: async () => ({ reloaded: ++reloads }), reloads: () => ({ applied: reloads, rejected: 0 }) });
    expectError(await post(`${http.url}/api/config/reload`), 401, 'ERR_UNAUTHORIZED');
    expect(reloads).to.equal(0);
    const done = await post(`${http.url}/api/config/reload`, auth);
    expect(done.status).to.equal(200);
    expect(done.json).to.deep.equal({ ok: true, result: { reloaded: 1 } });
    expect((await call(`${http.url}/metrics`)).text).to.include('ringmaster_config_reloads_total{result="applied",system="test"} 1');
    const other = await startHttp((await systems.start({ id: 'r2', strategy: 'one_for_one', children: [] })).system, { token: TOKEN });
    servers.push(other);
    expectError(await post(`${other.url}/api/config/reload`, auth), 404, 'ERR_NOT_FOUND');
  });

  it('answers 404 for unknown routes and 405 (with Allow) for a wrong method, all as JSON', async () => {
    const { http } = await boot();
    expectError(await call(`${http.url}/nope`), 404, 'ERR_NOT_FOUND');
    expectError(await call(`${http.url}/api/actors`), 404, 'ERR_NOT_FOUND');
    const wrong = await post(`${http.url}/health`, auth);
    expectError(wrong, 405, 'ERR_METHOD_NOT_ALLOWED');
    expect(wrong.headers.get('allow')).to.equal('GET, HEAD');
    const get = await call(`${http.url}/api/actors/a/restart`);
    expectError(get, 405, 'ERR_METHOD_NOT_ALLOWED');
    expect(get.headers.get('allow')).to.equal('POST');
    const head = await call(`${http.url}/ready`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.text).to.equal('');
    expectError(await call(`${http.url}/api/actors/%E0%A4%A`), 400, 'ERR_BAD_REQUEST');
  });

  it('turns a failing handler into a 500 JSON error and keeps serving', async () => {
    const failures = [new Error('secret detail'), new InvalidOptionError('config.x', 'must be a number')];
    const { http } = await boot({ token: TOKEN, onReload: () => Promise.reject(failures.shift()) });
    const internal = await post(`${http.url}/api/config/reload`, auth);
    expectError(internal, 500, 'ERR_INTERNAL');
    expect(internal.json.error.message).not.to.include('secret detail');
    const invalid = await post(`${http.url}/api/config/reload`, auth);
    expectError(invalid, 400, 'ERR_INVALID_OPTION');
    expect(invalid.json.error.message).to.equal('config.x must be a number');
    expect((await call(`${http.url}/ready`)).status).to.equal(200);
  });

  it('rejects invalid options with InvalidOptionError naming the field', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [] });
    const cases: [HttpOptions, string][] = [
      [{ port: -1 }, 'port'],
      [{ port: 1.5 }, 'port'],
      [{ port: '80' as unknown as number }, 'port'],
      [{ host: '' }, 'host'],
      [{ token: '' }, 'token'],
      [{ token: 'two words' }, 'token'],
      [{ onReload: 'yes' as unknown as () => Promise<unknown> }, 'onReload'],
      [{ reloads: 3 as unknown as () => { applied: number; rejected: number } }, 'reloads'],
    ];
    for (const [options, field] of cases) {
      const err = await startHttp(system, options).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, field).to.be.instanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).path).to.equal(field);
    }
  });

  it('close() ends keep-alive sockets and lets an answer in progress finish first', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const onReload = async (): Promise<string> => {
      entered();
      await gate;
      return 'done';
    };
    const { http } = await boot({ token: TOKEN, onReload });
    const agent = new Agent({ keepAlive: true });
    const idle = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const req = request(`${http.url}/ready`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject);
      req.end();
    });
    const slow = call(`${http.url}/api/config/reload`, { method: 'POST', headers: auth });
    await inHandler;
    const closed = http.close();
    const idleClosed = new Promise((r) => (idle.destroyed ? r(null) : idle.once('close', r)));
    await idleClosed;
    release();
    const answer = await slow;
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('connection')).to.equal('close');
    await closed;
    await until(() => idle.destroyed, 'the keep-alive socket to close');
    agent.destroy();
    const after = await fetch(`${http.url}/ready`).catch((e: Error) => e);
    expect(after).to.be.instanceOf(Error);
  });
});
