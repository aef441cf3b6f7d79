import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHttp, type HttpServer } from '../../src/http/server.js';
import { Processes } from './cli-helpers.js';
import { actors, Systems, until } from './system-helpers.js';

/** A pass-through proxy in front of `target` that counts the requests it forwards. */
async function countingProxy(target: string): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

describe('ringmaster status (real system, real HTTP)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  const processes = new Processes();
  const servers: HttpServer[] = [];
  const proxies: Server[] = [];
  afterEach(async () => {
    await processes.killAll();
    for (const p of proxies.splice(0)) {
      p.closeAllConnections();
      await new Promise((r) => p.close(r));
    }
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await systems.stopAll();
  });

  it('shows every actor with its message rate from a single request', async () => {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('echo') },
        { id: 'b', module: actors('echo') },
      ],
    });
    const http = await startHttp(system);
    servers.push(http);
    // Traffic to a until the server's sampler has measured some: a rate above zero, from its own counters.
    await until(async () => {
      for (let i = 0; i < 20; i++) await system.ref('a').ask({ op: 'echo', value: i });
      const tree = (await (await fetch(`${http.url}/api/tree`)).json()) as { sample: { actors: Record<string, { in: number | null }> } | null };
      return (tree.sample?.actors.a?.in ?? 0) > 0;
    }, 'a measured rate for a');
    const tree = (await (await fetch(`${http.url}/api/tree`)).json()) as { counters: Record<string, { received: number; sent: number }>; sample: { intervalMs: number } };
    expect(tree.counters.a!.received).to.be.greaterThan(0);
    expect(tree.counters.b).to.deep.equal({ received: 0, sent: 0 });
    expect(tree.sample.intervalMs).to.be.a('number');

    const proxy = await countingProxy(http.url);
    proxies.push(proxy.server);
    // Traffic goes on while the command starts and asks: a sampler window with none would show 0.
    let flowing = true;
    const traffic = (async () => {
      for (let i = 0; flowing; i++) await system.ref('a').ask({ op: 'echo', value: i });
    })();
    const status = await processes.ringmaster(['status', '--url', proxy.url]).finally(() => (flowing = false));
    await traffic;
    expect(status.code, status.stderr).to.equal(0);
    expect(proxy.requests).to.deep.equal(['GET /api/tree']);
    expect(status.stdout).to.match(/ACTOR\s+STATE\s+INC\s+RESTARTS\s+INBOX\s+MSG\/S/);
    expect(status.stdout).to.match(/^root\s+running\s/m);
    const rate = (id: string): string | undefined => new RegExp(`^ {2}${id}\\s+running\\s+1\\s+0\\s+\\d+\\s+(\\S+)$`, 'm').exec(status.stdout)?.[1];
    expect(Number(rate('a'))).to.be.greaterThan(0);
    expect(rate('b')).to.match(/^\d+\.\d$/);
  });

  it('shows ? for the rate while the server has no sample with rates yet (or no dashboard feed)', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: actors('echo') }] });
    const http = await startHttp(system, { dashboard: false });
    servers.push(http);
    const tree = (await (await fetch(`${http.url}/api/tree`)).json()) as { sample: unknown };
    expect(tree.sample).to.equal(null);
    const status = await processes.ringmaster(['status', '--url', http.url]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/^ {2}a\s+running\s+1\s+0\s+\d+\s+\?$/m);
  });
});
