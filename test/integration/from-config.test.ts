import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ActorSystem, ConfigError, type ConfiguredSystem } from '../../src/index.js';
import type { EchoMsg } from '../fixtures/actors/echo.js';
import { actors, until } from './system-helpers.js';

describe('ActorSystem.fromConfig (real files, real workers, a real listener)', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let system: ConfiguredSystem | null = null;
  // Relative to the file's folder, as a config file names modules.
  const echo = (): string => relative(dir, actors('echo'));
  const yaml = (greeting: string, extra = ''): string =>
    ['name: from-config', 'tree:', '  id: root', '  strategy: one_for_one', '  children:', '    - id: a', `      module: ${echo()}`, '      config:', `        greeting: ${greeting}`, extra, 'http:', '  port: 0', 'log:', '  level: silent'].join('\n');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-from-config-'));
    file = join(dir, 'ringmaster.yaml');
  });
  afterEach(async () => {
    await system?.stop();
    system = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the tree with modules relative to the file, serves its http section, and stop() closes the listener', async () => {
    writeFileSync(file, yaml('hello'));
    system = await ActorSystem.fromConfig(file, { watch: false });
    expect(system.name).to.equal('from-config');
    const me = (await system.ref<EchoMsg>('a').ask({ op: 'whoami' })) as { config: unknown };
    expect(me.config).to.deep.equal({ greeting: 'hello' });
    expect(system.http).to.not.equal(null);
    const url = system.http!.url;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/health`)).status).to.equal(200);
    expect(system.config.file).to.equal(file);
    await system.stop();
    const after = await fetch(`${url}/health`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(after, 'the listener closed with the system').to.equal('refused');
  });

  it('applies a change to the file while running (hot reload), and takes flag overrides over the file', async () => {
    writeFileSync(file, yaml('hello'));
    system = await ActorSystem.fromConfig(file, { flags: { name: 'renamed', logLevel: 'silent' }, env: {} });
    expect(system.name).to.equal('renamed');
    writeFileSync(file, yaml('bonjour'));
    const s = system;
    await until(async () => ((await s.ref<EchoMsg>('a').ask({ op: 'whoami' })) as { config: { greeting: string } }).config.greeting === 'bonjour', 'the reload');
    expect(system.config.counts()).to.deep.equal({ applied: 1, rejected: 0 });
  });

  it('stops what it started when the listener cannot listen (the port is taken)', async () => {
    writeFileSync(file, yaml('hello'));
    system = await ActorSystem.fromConfig(file, { watch: false });
    const taken = String(system.http!.port);
    const err = await ActorSystem.fromConfig(file, { flags: { port: taken }, watch: false }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.include(taken);
    // The first system is untouched.
    expect((await fetch(`${system.http!.url}/health`)).status).to.equal(200);
  });

  it('refuses a bad file with a ConfigError naming the line, and starts nothing', async () => {
    writeFileSync(file, yaml('hello', '      restart: sometimes'));
    const err = await ActorSystem.fromConfig(file).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include(`${file}:10`);
    expect((err as Error).message).to.include('restart');
  });
});

describe('system.onShutdown', function () {
  this.timeout(30_000);
  it('runs before-actors tasks while the actors still answer, after-actors once they stopped, and goes on past a task that throws', async () => {
    const system = await ActorSystem.start({ name: 't', tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: actors('echo') }] }, log: { level: 'silent' } });
    const seen: string[] = [];
    expect(() => system.onShutdown('later' as never, () => 0)).to.throw("onShutdown phase must be 'before-actors' or 'after-actors', got later");
    system.onShutdown('before-actors', async () => {
      seen.push(`before: spawn ${await system.spawn('root', { id: 'late', module: actors('echo') }).then(() => 'accepted', (e: Error) => e.message)}`);
      seen.push(`before: a answers ${String(await system.ref<EchoMsg>('a').ask({ op: 'echo', value: 1 }))}`);
    });
    system.onShutdown('before-actors', () => {
      throw new Error('a task that fails');
    });
    const removed = system.onShutdown('after-actors', () => seen.push('removed task ran'));
    removed();
    system.onShutdown('after-actors', () => seen.push(`after: a is ${system.status().find((s) => s.id === 'a')?.state}`));
    await system.stop();
    expect(seen).to.deep.equal(["before: spawn actor '$system' cannot spawn: the system is stopping", 'before: a answers 1', 'after: a is stopped']);
    expect(() => system.onShutdown('after-actors', () => 0)).to.throw(/cannot add a shutdown task: the system is stopped$/);
    await system.stop(); // a second stop is the first one
  });
});
