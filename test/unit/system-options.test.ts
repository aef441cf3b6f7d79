import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActorSystem, InvalidOptionError, MAX_TIMEOUT_MS, type TreeSpec } from '../../src/index.js';
import { Codec, createDoorbell, MAX_SENDER_SLOTS } from '../../src/internal.js';
import { ConfigError, parseConfig, type ConfigProblem, type LoadOptions } from '../../src/config/index.js';
import { MAX_INBOX_SENDER_SLOTS, MIN_MAX_MESSAGE_BYTES } from '../../src/defaults.js';
import { resolveSystemOptions, SYSTEM_TUNING_DEFAULTS } from '../../src/system/options.js';

const quiet: LoadOptions = { env: {}, flags: {}, stdoutIsTty: false, checkModules: false };
const tree: TreeSpec = { id: 'root', strategy: 'one_for_one', children: [] };

/** The one problem a config file with `system: { field: value }` has. */
function configProblem(field: string, value: number): ConfigProblem {
  const text = `name: t\ntree: { id: root, strategy: one_for_one, children: [] }\nsystem:\n  ${field}: ${value}\n`;
  try {
    parseConfig(text, 'sys.yaml', quiet);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).to.have.length(1);
    return problems[0]!;
  }
  throw new Error(`expected system.${field}: ${value} to be refused`);
}

function optionError(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidOptionError);
    return err as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

/** Options the runtime would refuse later (the Codec, the doorbell, Node's timers): now refused up front. */
const refused: Array<[field: string, value: number, reason: RegExp]> = [
  ['sendTimeoutMs', 0, /from 1 to 2147483647, got 0$/],
  ['maxMessageBytes', 8, /at least 16, got 8$/],
  ['senderSlots', MAX_INBOX_SENDER_SLOTS + 1, /from 1 to 4096, got 4097$/],
  ['askTimeoutMs', MAX_TIMEOUT_MS + 1, /from 1 to 2147483647, got 2147483648$/],
];

describe('system options: one schema for ActorSystem.start and config files', () => {
  it('fills every default', () => {
    const o = resolveSystemOptions({ name: 'x' });
    expect(o).to.deep.include({ ...SYSTEM_TUNING_DEFAULTS, name: 'x', baseDir: process.cwd(), logLevel: 'info' });
    expect(o.logPretty).to.be.a('boolean');
    expect(resolveSystemOptions({ name: 'x', baseDir: '/srv', log: { level: 'warn', pretty: true }, askTimeoutMs: 250 })).to.deep.include({
      baseDir: '/srv',
      logLevel: 'warn',
      logPretty: true,
      askTimeoutMs: 250,
    });
  });

  for (const [field, value, reason] of refused) {
    it(`refuses ${field}: ${value} in a config file and at start, naming the field, with the same reason`, async () => {
      const problem = configProblem(field, value);
      expect(problem).to.deep.include({ path: `system.${field}`, line: 4, origin: 'sys.yaml:4' });
      expect(problem.message).to.match(reason);

      const resolved = optionError(() => resolveSystemOptions({ name: 't', [field]: value }));
      expect(resolved.path).to.equal(field);
      expect(resolved.message).to.equal(`${field} ${problem.message}`);

      // The tree is fine and no worker starts: the options are refused first.
      const started = (await ActorSystem.start({ name: 't', tree, log: { level: 'silent' }, [field]: value }).catch((e: unknown) => e)) as InvalidOptionError;
      expect(started).to.be.instanceOf(InvalidOptionError);
      expect(started.message).to.equal(resolved.message);
    });
  }

  it('takes the limits themselves', () => {
    const edge = { name: 't', maxMessageBytes: MIN_MAX_MESSAGE_BYTES, senderSlots: MAX_INBOX_SENDER_SLOTS, sendTimeoutMs: MAX_TIMEOUT_MS, askTimeoutMs: 1 };
    expect(resolveSystemOptions(edge)).to.deep.include(edge);
    expect(parseConfig('tree: { id: root, strategy: one_for_one, children: [] }\nsystem: { senderSlots: 4096, sendTimeoutMs: 1 }\n', 't.yaml', quiet).config.system).to.deep.include({
      senderSlots: 4096,
      sendTimeoutMs: 1,
    });
  });

  it('has the bounds of the runtime: the Codec and the doorbell refuse exactly what lies outside them', () => {
    expect(MAX_INBOX_SENDER_SLOTS).to.equal(MAX_SENDER_SLOTS);
    expect(() => createDoorbell(MAX_INBOX_SENDER_SLOTS)).to.not.throw();
    expect(() => createDoorbell(MAX_INBOX_SENDER_SLOTS + 1)).to.throw(InvalidOptionError);
    expect(() => new Codec({ maxMessageBytes: MIN_MAX_MESSAGE_BYTES })).to.not.throw();
    expect(() => new Codec({ maxMessageBytes: MIN_MAX_MESSAGE_BYTES - 1 })).to.throw(InvalidOptionError);
  });

  it('names the field and the reason of other bad options', () => {
    expect(optionError(() => resolveSystemOptions({ name: '' })).message).to.equal('name must be a non-empty string');
    expect(optionError(() => resolveSystemOptions({ name: 'x', transport: { spin: { micros: 1.5 } } })).message).to.equal('transport.spin.micros must be a whole number of µs from 0 to 50000, got 1.5');
    expect(optionError(() => resolveSystemOptions({ name: 'x', log: { level: 'loud' } })).path).to.equal('log.level');
    expect(optionError(() => resolveSystemOptions({ name: 'x', log: { colour: 'red' } as never })).message).to.equal('log.colour is not a known option');
  });

  it('takes flightRecorder as a number or as { messages, payloadBytes }, each problem at its own path', () => {
    const text = (v: string): string => `name: t\ntree: { id: root, strategy: one_for_one, children: [] }\nsystem:\n  flightRecorder: ${v}\n`;
    const loaded = parseConfig(text('{ messages: 8, payloadBytes: 256 }'), 'sys.yaml', quiet);
    expect(loaded.config.system.flightRecorder).to.deep.equal({ messages: 8, payloadBytes: 256 });
    // The file's mapping took the default's place: its leaves come from the file, nothing is left of the default's origin.
    expect(loaded.origins.get('system.flightRecorder.payloadBytes')).to.deep.include({ kind: 'file' });
    expect(loaded.origins.has('system.flightRecorder')).to.equal(false);
    expect(resolveSystemOptions({ name: 'x', flightRecorder: 16 }).flightRecorder).to.equal(16);
    const cases: Array<[value: unknown, path: string, message: string]> = [
      [{ messages: 8, payloadBytes: 5000 }, 'flightRecorder.payloadBytes', 'must be a whole number of bytes from 0 to 4096, got 5000'],
      [{ messages: -1 }, 'flightRecorder.messages', 'must be a whole number of entries from 0 to 4096, got -1'],
      ['lots', 'flightRecorder', 'must be a number of messages from 0 to 4096 or { messages, payloadBytes }, got "lots"'],
    ];
    for (const [value, path, message] of cases) {
      const e = optionError(() => resolveSystemOptions({ name: 'x', flightRecorder: value as never }));
      expect(e.path).to.equal(path);
      expect(e.message).to.equal(`${path} ${message}`);
    }
    const problem = (v: string): ConfigProblem => {
      try {
        parseConfig(text(v), 'sys.yaml', quiet);
      } catch (err) {
        return (err as ConfigError).problems[0]!;
      }
      throw new Error(`expected flightRecorder: ${v} to be refused`);
    };
    expect(problem('{ messages: 8, payloadBytes: 5000 }')).to.deep.include({ path: 'system.flightRecorder.payloadBytes', message: 'must be a whole number of bytes from 0 to 4096, got 5000' });
    expect(problem('{ size: 3 }').path).to.match(/^system\.flightRecorder/);
  });

  it('loads no part of the runtime to validate a config file', () => {
    // Follow the static imports of the built loader: nothing that starts threads or logs.
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s(?:[^;'"]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
        else packages.add(spec);
      }
    };
    const dist = dirname(fileURLToPath(new URL('../../src/index.js', import.meta.url)));
    visit(resolve(dist, 'config/load.js'));
    const local = [...seen].map((f) => f.slice(dist.length + 1));
    expect(local).to.include('system/options.js');
    expect(local.filter((f) => /^(system|pool|host|transport|actor|log|health|http)\//.test(f) && !['system/options.js', 'system/option-schemas.js'].includes(f))).to.deep.equal([]);
    expect([...packages].filter((p) => ['piscina', 'pino', 'comlink', 'node:worker_threads'].includes(p))).to.deep.equal([]);
  });
});

describe('persistence options: the backend and its JetStream settings', () => {
  /** Every problem of a config file whose `persistence` section is `section` (YAML, indented by two). */
  function persistenceProblems(section: string): ConfigProblem[] {
    try {
      parseConfig(`name: t\ntree: { id: root, strategy: one_for_one, children: [] }\npersistence:\n${section}`, 'sys.yaml', quiet);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return [...(err as ConfigError).problems];
    }
    throw new Error('expected the persistence section to be refused');
  }

  it('defaults to SQLite, and fills in the JetStream defaults (a single server becomes a list)', () => {
    expect(resolveSystemOptions({ name: 'x' }).persistence).to.deep.include({ backend: 'sqlite', jetstream: null });
    const p = resolveSystemOptions({ name: 'x', persistence: { backend: 'jetstream', jetstream: { servers: 'nats://n1:4222', user: 'rm', pass: 's3cret', tls: { caFile: '/ca.pem' } } } }).persistence;
    expect(p.backend).to.equal('jetstream');
    expect(p.jetstream).to.deep.equal({ servers: ['nats://n1:4222'], stream: null, replicas: 1, connectTimeoutMs: 5000, timeoutMs: 5000, user: 'rm', pass: 's3cret', tls: { caFile: '/ca.pem' } });
    const file = parseConfig(
      'name: t\ntree: { id: root, strategy: one_for_one, children: [] }\npersistence:\n  backend: jetstream\n  jetstream:\n    servers: [n1:4222, n2:4222]\n    stream: TRADING\n    replicas: 3\n    options: { maxReconnectAttempts: -1 }\n',
      'sys.yaml',
      quiet,
    ).config.persistence;
    expect(resolveSystemOptions({ name: 't', persistence: file }).persistence.jetstream).to.deep.include({ servers: ['n1:4222', 'n2:4222'], stream: 'TRADING', replicas: 3, options: { maxReconnectAttempts: -1 } });
  });

  const bad: Array<[what: string, persistence: Record<string, unknown>, path: string, reason: RegExp]> = [
    ['an unknown backend', { backend: 'postgres' }, 'persistence.backend', /^must be 'sqlite' or 'jetstream', got "postgres"$/],
    ['jetstream without its settings', { backend: 'jetstream' }, 'persistence.jetstream', /^is required with backend 'jetstream'/],
    ['settings without the backend', { jetstream: { servers: 'n:4222' } }, 'persistence.backend', /^must be 'jetstream' when persistence.jetstream is given, got "sqlite"$/],
    ['no server', { backend: 'jetstream', jetstream: { servers: [] } }, 'persistence.jetstream.servers', /at least one server/],
    ['a server that is not an address', { backend: 'jetstream', jetstream: { servers: ['http://n/x'] } }, 'persistence.jetstream.servers[0]', /must be a NATS server address/],
    ['a stream name with a dot', { backend: 'jetstream', jetstream: { servers: 'n:4222', stream: 'a.b' } }, 'persistence.jetstream.stream', /letters, digits, _ and -/],
    ['too many replicas', { backend: 'jetstream', jetstream: { servers: 'n:4222', replicas: 7 } }, 'persistence.jetstream.replicas', /from 1 to 5, got 7$/],
    ['a token and a user', { backend: 'jetstream', jetstream: { servers: 'n:4222', token: 't', user: 'u', pass: 'p' } }, 'persistence.jetstream.token', /cannot be used with user and pass/],
    ['a user without a password', { backend: 'jetstream', jetstream: { servers: 'n:4222', user: 'u' } }, 'persistence.jetstream.pass', /is required with user/],
    ['a client option with a field of its own', { backend: 'jetstream', jetstream: { servers: 'n:4222', options: { timeout: 5 } } }, 'persistence.jetstream.options.timeout', /persistence.jetstream.connectTimeoutMs/],
    ['an unknown field', { backend: 'jetstream', jetstream: { servers: 'n:4222', cluster: 'x' } }, 'persistence.jetstream.cluster', /^is not a known option$/],
  ];
  for (const [what, persistence, path, reason] of bad) {
    it(`refuses ${what} at start, naming ${path}`, () => {
      const err = optionError(() => resolveSystemOptions({ name: 't', persistence: persistence as never }));
      expect(err.path).to.equal(path);
      expect(err.message.slice(path.length + 1)).to.match(reason);
    });
  }

  it('refuses the same in a config file, at the field and its line (an unknown field lists the known ones)', () => {
    const [p] = persistenceProblems('  backend: jetstream\n  jetstream:\n    servers: n:4222\n    replicas: 0\n');
    expect(p).to.deep.include({ path: 'persistence.jetstream.replicas', line: 7 });
    const [q] = persistenceProblems('  backend: jetstream\n  jetstream:\n    servers: n:4222\n    cluster: x\n');
    expect(q!.path).to.equal('persistence.jetstream.cluster');
    expect(q!.message).to.match(/^unknown field \(known: servers, stream, replicas, token, user, pass, tls, connectTimeoutMs, timeoutMs, options\)$/);
    const [r] = persistenceProblems('  backend: jetstream\n');
    expect(r).to.deep.include({ path: 'persistence.jetstream' });
    expect(r!.message).to.match(/is required with backend 'jetstream'/);
  });

  it('refuses client options that cannot travel to a worker thread', () => {
    const err = optionError(() => resolveSystemOptions({ name: 't', persistence: { backend: 'jetstream', jetstream: { servers: 'n:4222', options: { authenticator: () => undefined } } } }));
    expect(err.path).to.equal('persistence.jetstream.options');
    expect(err.message).to.match(/must be plain data \(it is sent to every persistent actor's thread\)/);
  });
});
