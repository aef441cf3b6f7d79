import { expect } from 'chai';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, InvalidOptionError, type SystemEvent } from '../../src/index.js';
import { ConfigError, ConfigManager, configRoutes, loadConfig, toSystemOptions } from '../../src/config/index.js';
import { traceContext } from '../../src/codec/trace-hook.js';
import { actors, Systems, until } from './system-helpers.js';

const echo = actors('echo');

/** A config with echo actors `a` (whose config is `a`) and `b` (with extra YAML lines `b`). */
function config(a: unknown, { b = '', level = 'silent', name = 'reload' } = {}): string {
  return `name: ${name}
log: { level: ${level}, pretty: false }
tree:
  id: root
  strategy: one_for_one
  children:
    - id: a
      module: ${echo}
      config: ${JSON.stringify(a)}
    - id: b
      module: ${echo}
${b}`;
}

describe('hot reload of a config file (real workers, real files)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  const managers: ConfigManager[] = [];
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-reload-'));
    file = join(dir, 'system.yaml');
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await systems.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  async function boot(text: string, watch = true): Promise<{ system: ActorSystem; manager: ConfigManager; events: SystemEvent[] }> {
    writeFileSync(file, text);
    const loaded = await loadConfig(file, { env: {} });
    const system = await ActorSystem.start(toSystemOptions(loaded.config));
    systems.track(system);
    const events: SystemEvent[] = [];
    system.on('*', (e) => events.push(e));
    const manager = new ConfigManager(system, loaded, { env: {}, debounceMs: 20, pollMs: 100 });
    managers.push(manager);
    if (watch) await manager.watch();
    return { system, manager, events };
  }

  const configEvents = (events: SystemEvent[]): SystemEvent[] => events.filter((e) => e.type === 'config-applied' || e.type === 'config-rejected');

  /** Save the way many editors do: write a new file, rename it over the old one. */
  function replace(text: string): void {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }

  it('applies a changed actor config without a restart', async () => {
    const { system, manager } = await boot(config({ limit: 1 }));
    writeFileSync(file, config({ limit: 2 }));
    await until(() => manager.current.version === 2, 'the change to be applied');
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 1, config: { limit: 2 }, reconfigured: 1 });
    expect(manager.current).to.deep.include({ source: 'file', changes: [{ kind: 'configure', id: 'a' }] });
    expect(manager.counts()).to.deep.equal({ applied: 1, rejected: 0 });
  });

  it('restarts a child whose other fields changed, also when the file is replaced rather than rewritten', async () => {
    const { system, manager } = await boot(config({ limit: 1 }));
    replace(config({ limit: 1 }, { b: '      heartbeat: { intervalMs: 100, misses: 5 }\n' }));
    await until(() => manager.current.version === 2, 'the change to be applied');
    expect(manager.current.changes).to.deep.equal([{ kind: 'restart', id: 'b' }]);
    expect(await system.ref('b').ask({ op: 'whoami' })).to.deep.include({ incarnation: 2 });
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 1, reconfigured: 0 });
  });

  it('rejects an invalid change as a whole, counts it, keeps the old config running, and recovers on the next valid one', async () => {
    const { system, manager, events } = await boot(config({ limit: 1 }));
    writeFileSync(file, config({ limit: 2 }, { b: '      restart: sometimes\n' }));
    await until(() => manager.counts().rejected === 1, 'the change to be rejected');
    const [rejected, ...more] = configEvents(events);
    expect(more).to.deep.equal([]);
    expect(rejected).to.deep.include({ type: 'config-rejected', source: 'file' });
    expect((rejected as Extract<SystemEvent, { type: 'config-rejected' }>).problems).to.have.length(1);
    expect((rejected as Extract<SystemEvent, { type: 'config-rejected' }>).problems[0]).to.match(/system\.yaml:\d+: tree\.children\[1\]\.restart: /);
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ config: { limit: 1 }, reconfigured: 0 });
    expect(manager.versions()).to.have.length(1);
    expect(manager.counts()).to.deep.equal({ applied: 0, rejected: 1 });

    writeFileSync(file, config({ limit: 3 }));
    await until(() => manager.current.version === 2, 'the fixed file to be applied');
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ config: { limit: 3 }, reconfigured: 1 });
    expect(configEvents(events).slice(1)).to.have.length(1);
    expect(configEvents(events)[1]).to.deep.include({ type: 'config-applied', version: 2, source: 'file', changes: [{ kind: 'configure', id: 'a' }] });
  });

  it('rolls back to version 1 as a new version, and through the route handlers', async () => {
    const { system, manager, events } = await boot(config({ limit: 1 }));
    const routes = configRoutes(manager);
    writeFileSync(file, config({ limit: 2 }, { b: '      deadlineMs: 1000\n' }));
    await until(() => manager.current.version === 2, 'the change to be applied');

    const rolled = await routes.rollback(1);
    expect(rolled.version).to.deep.include({ version: 3, source: 'rollback', restored: 1 });
    expect(rolled.version.changes).to.deep.equal([
      { kind: 'configure', id: 'a' },
      { kind: 'restart', id: 'b' },
    ]);
    expect(await system.ref('a').ask({ op: 'whoami' })).to.deep.include({ incarnation: 1, config: { limit: 1 }, reconfigured: 2 });
    expect(system.tree.children.find((c) => c.id === 'b')).to.deep.include({ deadlineMs: 0 });
    expect(configEvents(events).map((e) => [e.type, 'source' in e && e.source, 'version' in e && e.version, 'restored' in e && e.restored])).to.deep.equal([
      ['config-applied', 'file', 2, false],
      ['config-applied', 'rollback', 3, 1],
    ]);

    const listed = routes.versions();
    expect(listed).to.deep.include({ current: 3, applied: 2, rejected: 0 });
    expect(listed.versions.map((v) => `${v.version}:${v.source}`)).to.deep.equal(['1:start', '2:file', '3:rollback']);
    expect(listed.versions[0]).to.not.have.property('tree');

    // With no version: the one before the current one.
    expect((await routes.rollback()).version).to.deep.include({ version: 4, restored: 2 });
    expect(await routes.rollback(99).catch((e: unknown) => e)).to.be.instanceOf(InvalidOptionError);
    expect(await routes.rollback('2').catch((e: unknown) => e)).to.be.instanceOf(InvalidOptionError);
  });

  it('reloads on request: unchanged text is a no-op; a new log level reaches the system logger; start-only fields are flagged', async () => {
    const { system, manager } = await boot(config({ limit: 1 }), false);
    expect(await manager.reload()).to.deep.equal({ status: 'unchanged', version: 1 });
    writeFileSync(file, config({ limit: 1 }, { level: 'error', name: 'renamed' }));
    const outcome = await manager.reload();
    expect(outcome).to.deep.equal({ status: 'applied', version: 2, changes: [], needsRestart: ['name'] });
    expect(system.log.level).to.equal('error');
    expect(system.name).to.equal('reload');
    await manager.rollback(1);
    expect(system.log.level).to.equal('silent');
  });

  it('flags a change to tracing as taking effect at the next start, and leaves tracing as it was', async () => {
    const { manager } = await boot(config({ limit: 1 }), false);
    writeFileSync(file, config({ limit: 1 }, { b: 'tracing: true\n' }));
    expect(await manager.reload()).to.deep.include({ status: 'applied', changes: [], needsRestart: ['tracing'] });
    expect(traceContext, 'still off in this thread').to.equal(null);
  });

  it('the reload route handler answers a rejected file with ConfigError listing every problem', async () => {
    const { manager, events } = await boot(config({ limit: 1 }), false);
    const routes = configRoutes(manager);
    expect(await routes.reload()).to.deep.equal({ status: 'unchanged', version: 1 });
    writeFileSync(file, config({ limit: 1 }, { b: '      restart: sometimes\n' }));
    const err = await routes.reload().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.path)).to.deep.equal(['tree.children[1].restart']);
    expect(configEvents(events).map((e) => e.type)).to.deep.equal(['config-rejected']);
  });
});
