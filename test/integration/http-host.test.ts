import { expect } from 'chai';
import { request } from 'node:http';
import { connect } from 'node:net';
import { InvalidOptionError, type ActorSystem } from '../../src/index.js';
import { startHttp, type HttpOptions, type HttpServer } from '../../src/http/server.js';
import { actors, Systems } from './system-helpers.js';

const TOKEN = 'host-test-token';

interface Raw {
  status: number;
  body: string;
}

/** One request with the Host header set by hand (fetch takes it from the URL); the body is read only up to its first bytes for a stream. */
function raw(port: number, method: string, path: string, host: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        // The live feed never ends by itself: its first bytes say enough.
        if (res.headers['content-type']?.startsWith('text/event-stream')) res.destroy();
      });
      res.on('close', () => resolve({ status: res.statusCode!, body }));
      res.on('error', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The whole answer to a request written by hand on a socket. */
function http10(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Every route of a server with the dashboard, a token and the config routes; POSTs last. */
const ROUTES: Array<[string, string]> = [
  ['GET', '/'],
  ['GET', '/dashboard/dashboard.js'],
  ['GET', '/dashboard/uPlot.min.css'],
  ['GET', '/api/live'],
  ['GET', '/api/tree'],
  ['GET', '/api/actors/a'],
  ['GET', '/health'],
  ['GET', '/ready'],
  ['GET', '/metrics'],
  ['GET', '/api/config/versions'],
  ['HEAD', '/health'],
  ['GET', '/no-such-route'],
  ['POST', '/api/actors/a/restart'],
  ['POST', '/api/actors/b/stop'],
  ['POST', '/api/config/reload'],
  ['POST', '/api/config/rollback'],
];

describe('HTTP: the Host header guard against DNS rebinding (real server on 127.0.0.1)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  const servers: HttpServer[] = [];
  let reloads = 0;
  let rollbacks = 0;
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
        { id: 'b', module: actors('echo') },
      ],
    });
    reloads = rollbacks = 0;
    const http = await startHttp(system, {
      port: 0,
      token: TOKEN,
      onReload: async () => ++reloads,
      config: { versions: () => ({ current: 1, versions: [] }), rollback: async () => ++rollbacks },
      ...options,
    });
    servers.push(http);
    return { system, http };
  }

  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  it('answers 403 on every route to a request for another name, and does nothing it asks', async () => {
    const { system, http } = await boot();
    for (const [method, path] of ROUTES) {
      const r = await raw(http.port, method, path, `evil.example:${http.port}`, auth);
      expect(r.status, `${method} ${path}`).to.equal(403);
      if (method === 'HEAD') continue;
      const body = JSON.parse(r.body) as { error: { code: string; message: string } };
      expect(body.error.code).to.equal('ERR_FORBIDDEN');
      expect(body.error.message).to.include(`Host 'evil.example:${http.port}' is not allowed`);
      expect(body.error.message).to.include('localhost, 127.0.0.1, [::1]');
    }
    expect(system.status().filter((s) => s.kind === 'actor').map((s) => [s.id, s.state, s.incarnation])).to.deep.equal([
      ['a', 'running', 1],
      ['b', 'running', 1],
    ]);
    expect([reloads, rollbacks]).to.deep.equal([0, 0]);
    // HTTP/1.0 may leave the header out (node:http refuses that in HTTP/1.1 itself); a browser never does.
    const none = await http10(http.port, 'GET /health HTTP/1.0\r\n\r\n');
    expect(none).to.match(/^HTTP\/1\.1 403 /);
    expect(none).to.include('without a Host header');
  });

  it('answers the loopback names with any port, and the address it is bound to', async () => {
    const { system, http } = await boot();
    for (const host of [`localhost:${http.port}`, `127.0.0.1:${http.port}`, `[::1]:${http.port}`, 'LOCALHOST']) {
      const r = await raw(http.port, 'GET', '/health', host);
      expect(r.status, host).to.equal(200);
      expect(JSON.parse(r.body)).to.have.property('status', 'healthy');
    }
    expect((await raw(http.port, 'GET', '/', `localhost:${http.port}`)).body).to.include('<html');
    expect((await raw(http.port, 'GET', '/api/live', `localhost:${http.port}`)).body).to.match(/^retry: /);
    const restart = await raw(http.port, 'POST', '/api/actors/a/restart', `localhost:${http.port}`, auth);
    expect(restart.status, restart.body).to.equal(200);
    expect(system.status().find((s) => s.id === 'a')).to.include({ incarnation: 2 });
    // What fetch sends: the URL's own host.
    expect((await fetch(`${http.url}/ready`)).status).to.equal(200);
  });

  it('answers a name listed in allowedHosts, and still refuses the others', async () => {
    const { http } = await boot({ allowedHosts: ['dash.example', 'Ops.Internal'] });
    expect((await raw(http.port, 'GET', '/api/tree', `dash.example:${http.port}`)).status).to.equal(200);
    expect((await raw(http.port, 'GET', '/metrics', 'ops.internal')).status).to.equal(200);
    const other = await raw(http.port, 'GET', '/api/tree', 'evil.example');
    expect(other.status).to.equal(403);
    expect(other.body).to.include('dash.example, ops.internal');
  });

  it('bound to every interface: answers any IP address as Host, but a name only when listed', async () => {
    const { http } = await boot({ host: '0.0.0.0', allowedHosts: ['dash.example'] });
    expect((await raw(http.port, 'GET', '/ready', `192.0.2.10:${http.port}`)).status).to.equal(200);
    expect((await raw(http.port, 'GET', '/ready', `[2001:db8::1]:${http.port}`)).status).to.equal(200);
    expect((await raw(http.port, 'GET', '/ready', 'dash.example')).status).to.equal(200);
    const name = await raw(http.port, 'GET', '/ready', `evil.example:${http.port}`);
    expect(name.status).to.equal(403);
    expect(name.body).to.include('or any IP address');
  });

  it('rejects an allowedHosts that is not a list of names with InvalidOptionError naming the entry', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [] });
    const cases: Array<[unknown, string]> = [
      ['dash.example', 'allowedHosts'],
      [['ok.example', 'http://dash.example'], 'allowedHosts[1]'],
      [['dash.example:9464'], 'allowedHosts[0]'],
      [[''], 'allowedHosts[0]'],
    ];
    for (const [allowedHosts, path] of cases) {
      const err = await startHttp(system, { allowedHosts: allowedHosts as string[] }).then(
        (s) => {
          servers.push(s);
          return null;
        },
        (e: unknown) => e,
      );
      expect(err, path).to.be.instanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).path).to.equal(path);
    }
  });
});
