import { expect } from 'chai';
import { resolve } from 'node:path';
import { DEFAULT_ASK_TIMEOUT_MS } from '../../src/index.js';
import { ConfigError, describeConfig, describeOrigin, parseConfig, toSystemOptions, type LoadOptions } from '../../src/config/index.js';

const quiet: LoadOptions = { env: {}, flags: {}, stdoutIsTty: false, checkModules: false };

const yaml = `name: from-file
tree:
  id: root
  strategy: one_for_one
  children:
    - id: risk
      module: ./risk.js
      config: { limit: 5 }
http:
  host: 10.0.0.1
  port: 1000
log:
  level: warn
system:
  askTimeoutMs: 250
`;

function originOf(text: string, file: string, path: string, options: LoadOptions = quiet): string {
  const loaded = parseConfig(text, file, options);
  const o = loaded.origins.get(path);
  return o ? describeOrigin(o) : 'none';
}

describe('config: sources and precedence', () => {
  it('layers defaults < file < environment < flags and says where each value came from', () => {
    const env = { RINGMASTER_NAME: 'from-env', RINGMASTER_HTTP_PORT: '2000', RINGMASTER_LOG_LEVEL: 'error', RINGMASTER_LOG_PRETTY: 'true' };
    const loaded = parseConfig(yaml, 'sys.yaml', { ...quiet, env, flags: { name: 'from-flag', pretty: false } });
    const { config } = loaded;
    expect(config.name).to.equal('from-flag');
    expect(config.http).to.deep.equal({ host: '10.0.0.1', port: 2000 });
    expect(config.log).to.deep.equal({ level: 'error', pretty: false });
    expect(config.system.askTimeoutMs).to.equal(250);
    expect(config.system.sendTimeoutMs).to.equal(10_000);
    const where = Object.fromEntries(describeConfig(loaded).entries.map((e) => [e.path, e.origin]));
    expect(where).to.include({
      name: 'flag --name',
      'http.host': 'sys.yaml:10',
      'http.port': 'env RINGMASTER_HTTP_PORT',
      'log.level': 'env RINGMASTER_LOG_LEVEL',
      'log.pretty': 'flag --no-pretty',
      'system.askTimeoutMs': 'sys.yaml:15',
      'system.sendTimeoutMs': 'default',
      'tree.children[0].module': 'sys.yaml:7',
      'tree.children[0].config.limit': 'sys.yaml:8',
    });
  });

  it('fills defaults: name from the file name, info level, no HTTP unless some source asks for it', () => {
    const bare = 'tree: { id: root, strategy: one_for_one, children: [] }\n';
    const { config } = parseConfig(bare, '/etc/ringmaster/pricing.yml', quiet);
    expect(config).to.deep.include({ name: 'pricing', http: null, log: { level: 'info', pretty: false }, baseDir: '/etc/ringmaster' });
    expect(config.system.askTimeoutMs).to.equal(DEFAULT_ASK_TIMEOUT_MS);
    expect(originOf(bare, 'pricing.yml', 'name')).to.equal('default');

    const viaEnv = parseConfig(bare, 'p.yaml', { ...quiet, env: { RINGMASTER_HTTP_PORT: '0', RINGMASTER_HTTP_TOKEN: 't0k' } }).config;
    expect(viaEnv.http).to.deep.equal({ host: '127.0.0.1', port: 0, token: 't0k' });
    const viaSection = parseConfig(`${bare}http: {}\n`, 'p.yaml', quiet).config;
    expect(viaSection.http).to.deep.equal({ host: '127.0.0.1', port: 9464 });
  });

  it('takes the journal database from RINGMASTER_PERSISTENCE_PATH or --persistence-path, relative to the file', () => {
    const bare = 'tree: { id: root, strategy: one_for_one, children: [] }\npersistence: { path: data/in-file.db }\n';
    const file = '/srv/app/sys.yaml';
    const path = (options: LoadOptions): string => toSystemOptions(parseConfig(bare, file, { ...quiet, ...options }).config).persistence!.path!;
    expect(resolve('/srv/app', path(quiet))).to.equal('/srv/app/data/in-file.db');
    expect(path({ env: { RINGMASTER_PERSISTENCE_PATH: '/var/lib/app/journal.db' } })).to.equal('/var/lib/app/journal.db');
    expect(path({ env: { RINGMASTER_PERSISTENCE_PATH: '/var/lib/a.db' }, flags: { persistencePath: '/tmp/b.db' } })).to.equal('/tmp/b.db');
    expect(originOf(bare, file, 'persistence.path', { ...quiet, env: { RINGMASTER_PERSISTENCE_PATH: '/x.db' } })).to.equal('env RINGMASTER_PERSISTENCE_PATH');
  });

  it('takes the cluster section from the file, its node and servers from RINGMASTER_CLUSTER_* or --cluster-*', () => {
    const bare = 'tree: { id: root, strategy: one_for_one, children: [] }\ncluster: { node: n1, servers: nats://a:4222, heartbeatMs: 500 }\n';
    const cluster = (options: LoadOptions): unknown => toSystemOptions(parseConfig(bare, 'c.yaml', { ...quiet, ...options }).config).cluster;
    expect(cluster(quiet)).to.deep.equal({ node: 'n1', servers: 'nats://a:4222', heartbeatMs: 500 });
    const env = { RINGMASTER_CLUSTER_NODE: 'n2', RINGMASTER_CLUSTER_SERVERS: 'nats://b:4222, nats://c:4222' };
    expect(cluster({ env })).to.deep.equal({ node: 'n2', servers: ['nats://b:4222', 'nats://c:4222'], heartbeatMs: 500 });
    expect(cluster({ env, flags: { clusterNode: 'n3', clusterServers: 'd:4222' } })).to.deep.include({ node: 'n3', servers: ['d:4222'] });
    expect(originOf(bare, 'c.yaml', 'cluster.node', { ...quiet, flags: { clusterNode: 'n3' } })).to.equal('flag --cluster-node');
    expect(toSystemOptions(parseConfig('tree: { id: root, strategy: one_for_one, children: [] }\n', 'c.yaml', quiet).config).cluster).to.equal(undefined);
    expect(() => parseConfig(bare, 'c.yaml', { ...quiet, env: { RINGMASTER_CLUSTER_NODE: 'a b' } })).to.throw(ConfigError, /cluster\.node.*must be a node name/s);
  });

  it('treats an empty environment variable as unset', () => {
    const { config } = parseConfig(yaml, 'sys.yaml', { ...quiet, env: { RINGMASTER_HTTP_PORT: '', RINGMASTER_NAME: '' } });
    expect(config.http?.port).to.equal(1000);
    expect(config.name).to.equal('from-file');
  });

  it('reads JSON and YAML to the same configuration, with lines for both', () => {
    const json = JSON.stringify(
      { name: 'from-file', tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'risk', module: './risk.js', config: { limit: 5 } }] }, http: { host: '10.0.0.1', port: 1000 }, log: { level: 'warn' }, system: { askTimeoutMs: 250 } },
      null,
      2,
    );
    const a = parseConfig(yaml, 'sys.yaml', quiet).config;
    const b = parseConfig(json, 'sys.json', quiet).config;
    expect({ ...b, file: a.file }).to.deep.equal(a);
    expect(originOf(json, 'sys.json', 'http.port')).to.equal('sys.json:18');
  });

  it('builds the ActorSystem options, with relative modules resolving from the file’s directory', () => {
    const opts = toSystemOptions(parseConfig(yaml, '/srv/app/sys.yaml', quiet).config);
    expect(opts).to.deep.include({ name: 'from-file', baseDir: '/srv/app', askTimeoutMs: 250, log: { level: 'warn', pretty: false } });
    expect(opts.tree).to.deep.include({ id: 'root' });
  });

  it('takes tracing from the file: true, or a setup module relative to the file, and passes it to the system', () => {
    expect(parseConfig(yaml, '/srv/app/sys.yaml', quiet).config.tracing).to.equal(null);
    expect(toSystemOptions(parseConfig(yaml, '/srv/app/sys.yaml', quiet).config)).to.not.have.property('tracing');
    const on = parseConfig(`${yaml}tracing: true\n`, '/srv/app/sys.yaml', quiet);
    expect(on.config.tracing).to.deep.equal({ setup: null });
    expect(toSystemOptions(on.config).tracing).to.equal(true);
    const setup = parseConfig(`${yaml}tracing:\n  setup: ./otel/setup.js\n`, '/srv/app/sys.yaml', quiet);
    expect(setup.config.tracing).to.deep.equal({ setup: resolve('/srv/app/otel/setup.js') });
    expect(toSystemOptions(setup.config).tracing).to.deep.equal({ setup: resolve('/srv/app/otel/setup.js') });
    expect(describeOrigin(setup.origins.get('tracing.setup')!)).to.equal('/srv/app/sys.yaml:17');
    expect(describeConfig(setup).entries.find((e) => e.path === 'tracing.setup')).to.deep.include({ value: resolve('/srv/app/otel/setup.js') });
    expect(parseConfig(`${yaml}tracing: false\n`, 'sys.yaml', quiet).config.tracing).to.equal(null);
  });

  it('redacts the token in the listing but keeps where it came from', () => {
    const loaded = parseConfig(yaml, 'sys.yaml', { ...quiet, flags: { token: 's3cret' } });
    const { config, entries } = describeConfig(loaded);
    expect(JSON.stringify(config)).to.not.include('s3cret');
    expect(entries.find((e) => e.path === 'http.token')).to.deep.equal({ path: 'http.token', value: '<redacted>', origin: 'flag --token' });
    expect(loaded.config.http?.token).to.equal('s3cret');
  });

  it('reads http.allowedHosts as one list from the file, the environment (comma-separated) or --allowed-hosts', () => {
    const file = `${yaml}`.replace('  port: 1000\n', '  port: 1000\n  allowedHosts: [dash.example, "[::1]"]\n');
    const loaded = parseConfig(file, 'sys.yaml', quiet);
    expect(loaded.config.http).to.deep.equal({ host: '10.0.0.1', port: 1000, allowedHosts: ['dash.example', '[::1]'] });
    expect(describeOrigin(loaded.origins.get('http.allowedHosts')!)).to.equal('sys.yaml:12');
    const env = parseConfig(file, 'sys.yaml', { ...quiet, env: { RINGMASTER_HTTP_ALLOWED_HOSTS: ' a.example, b.example ,' } });
    expect(env.config.http?.allowedHosts).to.deep.equal(['a.example', 'b.example']);
    const flag = parseConfig(yaml, 'sys.yaml', { ...quiet, flags: { allowedHosts: 'c.example' } });
    expect(flag.config.http?.allowedHosts).to.deep.equal(['c.example']);
    expect(describeOrigin(flag.origins.get('http.allowedHosts')!)).to.equal('flag --allowed-hosts');
  });
});
