import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblem, loadConfig, parseConfig, type ConfigProblem, type LoadOptions } from '../../src/config/index.js';

const quiet: LoadOptions = { env: {}, flags: {}, stdoutIsTty: false, checkModules: false };

function problems(text: string, file = 'sys.yaml', options: LoadOptions = quiet): ConfigProblem[] {
  try {
    parseConfig(text, file, options);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).code).to.equal('ERR_INVALID_OPTION');
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the config to be rejected');
}

const good = `name: ok
tree:
  id: root
  strategy: one_for_one
  children:
    - id: a
      module: ./a.js
`;

describe('config: validation', () => {
  it('lists every bad field of the tree with its path and line, in one pass', () => {
    const found = problems(`name: ok
tree:
  id: root
  strategy: one_for_some
  children:
    - id: a
      module: ./a.js
      restart: sometimes
      typo: true
`);
    const lines = found.map(formatProblem);
    expect(found.find((p) => p.path === 'tree.strategy')).to.deep.include({ line: 4, origin: 'sys.yaml:4' });
    expect(found.find((p) => p.path === 'tree.children[0].restart')).to.deep.include({ line: 8 });
    expect(found.find((p) => p.path === 'tree.children[0].restart')!.message).to.match(/permanent.*transient.*temporary/);
    // An unknown field is pinned to its own line, not to the object it sits in.
    expect(found.find((p) => p.path === 'tree.children[0].typo')).to.deep.include({ line: 9, message: 'unknown field' });
    expect(lines).to.include(`sys.yaml:9: tree.children[0].typo: unknown field`);
  });

  it('reports tree-wide problems (unknown dependency, duplicate id) at the offending entry', () => {
    const found = problems(`${good}    - id: b\n      module: ./b.js\n      dependencies: [nobody]\n    - id: a\n      module: ./c.js\n`).map(formatProblem);
    expect(found).to.include("sys.yaml:10: tree.children[1].dependencies[0]: unknown sibling 'nobody'");
    expect(found).to.include("sys.yaml:11: tree.children[2].id: 'a' is already used at tree.children[0]");
  });

  it('names the line of a YAML syntax error', () => {
    const found = problems('name: x\ntree:\n  id: root\n  children: [ { id: a }\n  strategy: one_for_one\nlog: : x\n');
    expect(found.length).to.be.greaterThan(0);
    expect(found[0]!.line).to.be.a('number');
    expect(found[0]!.origin).to.match(/^sys\.yaml:\d+$/);
  });

  it('names the line of a JSON syntax error, and refuses YAML-isms in a .json file', () => {
    const found = problems('{\n  "name": "x",\n  "log": { "level": "info", }\n}\n', 'sys.json');
    expect(found).to.have.length(1);
    expect(found[0]).to.deep.include({ line: 3, origin: 'sys.json:3' });
    expect(problems('name: x\n', 'sys.json')[0]).to.deep.include({ line: 1, message: "Unexpected token 'a'" });
    expect(problems('{\n  "name": "x",\n  "tree": tru\n}\n', 'sys.json')[0]!.line).to.equal(3);
  });

  it('rejects an unknown top-level key (and an unknown key inside a section) at its line', () => {
    const found = problems(`${good}colour: blue\nlog:\n  level: info\n  colour: red\n`);
    expect(found.map((p) => `${p.origin} ${p.path}`)).to.deep.equal(['sys.yaml:8 colour', 'sys.yaml:11 log.colour']);
    expect(found[0]!.message).to.match(/unknown field .*name, tree, http, log, system/);
  });

  it('takes a transport section, and names the line of a bad spin setting', () => {
    const ok = parseConfig(`${good}transport:\n  spin:\n    micros: 50\n    maxSpinners: 1\n`, 'sys.yaml', quiet);
    expect(ok.config.transport).to.deep.equal({ spin: { micros: 50, maxSpinners: 1 } });
    expect(parseConfig(good, 'sys.yaml', quiet).config.transport).to.deep.equal({ spin: 'auto' });
    const found = problems(`${good}transport:\n  spin: fast\n`);
    expect(found.map((p) => `${p.origin} ${p.path}`)).to.deep.equal(['sys.yaml:9 transport.spin']);
    expect(found[0]!.message).to.equal(`must be 'auto', 'off' or { micros, maxSpinners }, got "fast"`);
  });

  it('refuses a tracing field that is neither a boolean nor { setup }, an unknown field in it, and a setup file that is not there, at their lines', () => {
    expect(problems(`${good}tracing: maybe\n`).map(formatProblem)[0]).to.match(/^sys\.yaml:8: tracing: /);
    expect(problems(`${good}tracing:\n  setup: ./t.js\n  sample: 0.5\n`).map(formatProblem)).to.include('sys.yaml:10: tracing.sample: unknown field (known: setup)');
    expect(problems(`${good}tracing:\n  setup: ''\n`).map((p) => p.path)).to.deep.equal(['tracing.setup']);
    const dir = mkdtempSync(join(tmpdir(), 'ringmaster-tracing-config-'));
    try {
      writeFileSync(join(dir, 'a.js'), 'export default {};\n');
      const file = join(dir, 'sys.yaml');
      const missing = problems(`${good}tracing:\n  setup: ./otel.js\n`, file, { ...quiet, checkModules: true }).map(formatProblem);
      expect(missing).to.deep.equal([`${file}:9: tracing.setup: module file not found: ${join(dir, 'otel.js')}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the environment variable of a bad environment value', () => {
    const found = problems(good, 'sys.yaml', { ...quiet, env: { RINGMASTER_HTTP_PORT: 'eighty', RINGMASTER_LOG_PRETTY: 'maybe', RINGMASTER_LOG_LEVEL: 'loud' } });
    expect(found.map((p) => `${p.origin} ${p.path}`)).to.have.members(['env RINGMASTER_HTTP_PORT http.port', 'env RINGMASTER_LOG_PRETTY log.pretty', 'env RINGMASTER_LOG_LEVEL log.level']);
    expect(found.find((p) => p.path === 'http.port')!.message).to.include("'eighty'");
    expect(found.every((p) => p.line === undefined)).to.equal(true);
  });

  it('names the flag of a bad flag value', () => {
    const found = problems(good, 'sys.yaml', { ...quiet, flags: { port: '70000', logLevel: 'chatty', token: 'has space' } });
    expect(found.map((p) => `${p.origin} ${p.path}`)).to.have.members(['flag --port http.port', 'flag --log-level log.level', 'flag --token http.token']);
  });

  it('checks values from the file against the schema with their lines', () => {
    const found = problems(`${good}http:\n  port: 99999\nsystem:\n  askTimeoutMs: 0\n  spinMicros: fast\n`);
    expect(found.map((p) => `${p.line} ${p.path}`)).to.deep.equal(['9 http.port', '11 system.askTimeoutMs', '12 system.spinMicros']);
  });

  it('refuses a tree duration longer than a Node timer can wait, at its line', () => {
    const found = problems(`${good}      heartbeat: { intervalMs: 3000000000 }\n      shutdown: 1000000000000000\n`);
    expect(found.map((p) => `${p.origin} ${p.path}`)).to.deep.equal(['sys.yaml:8 tree.children[0].heartbeat.intervalMs', 'sys.yaml:9 tree.children[0].shutdown']);
    expect(found[1]!.message).to.equal('must be a whole number of ms from 0 to 2147483647');
  });

  it('requires a tree, and a mapping at the top', () => {
    expect(problems('name: x\n').map((p) => p.path)).to.deep.equal(['tree']);
    expect(problems('')[0]!.message).to.match(/empty document/);
    expect(problems('- a\n- b\n')[0]!.message).to.match(/a list/);
  });

  describe('files on disk', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-config-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reports a module file that does not exist, relative to the config file', async () => {
      writeFileSync(join(dir, 'a.js'), 'export default {};\n');
      writeFileSync(join(dir, 'sys.yaml'), `${good}    - id: b\n      module: ./missing.js\n`);
      const err = (await loadConfig(join(dir, 'sys.yaml'), { env: {} }).catch((e: unknown) => e)) as ConfigError;
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.problems).to.have.length(1);
      expect(err.problems[0]).to.deep.include({ path: 'tree.children[1].module', line: 9, message: `module file not found: ${join(dir, 'missing.js')}` });
    });

    it('says a missing file or an unknown extension cannot be read (not that it is invalid)', async () => {
      const missing = (await loadConfig(join(dir, 'nope.yaml')).catch((e: unknown) => e)) as ConfigError;
      expect(missing.unreadable).to.equal(true);
      expect(missing.problems[0]!.message).to.include('no such file');
      const toml = (await loadConfig(join(dir, 'sys.toml')).catch((e: unknown) => e)) as ConfigError;
      expect(toml.unreadable).to.equal(true);
      expect(toml.problems[0]!.message).to.include('.toml');
    });
  });

  it('refuses an http.allowedHosts entry that is not a bare name or address, with its line or variable', () => {
    const found = problems(`${good}http:\n  allowedHosts:\n    - dash.example\n    - http://evil.example\n    - box:9464\n`);
    expect(found.map((p) => `${p.line} ${p.path}`)).to.deep.equal(['11 http.allowedHosts[1]', '12 http.allowedHosts[2]']);
    expect(found[0]!.message).to.include('without scheme, port or path');
    const env = problems(good, 'sys.yaml', { ...quiet, env: { RINGMASTER_HTTP_ALLOWED_HOSTS: 'ok.example,bad/path' } });
    expect(env.map(formatProblem)).to.deep.equal(['env RINGMASTER_HTTP_ALLOWED_HOSTS: http.allowedHosts[1]: must be a host name or an IP address, without scheme, port or path']);
  });
});
