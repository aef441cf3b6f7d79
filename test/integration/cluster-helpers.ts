import { spawn, type ChildProcess } from 'node:child_process';
import type { SystemOptions } from '../../src/index.js';
import { NatsServer, needNatsServer } from '../helpers/nats-server.js';
import { actors, Systems } from './system-helpers.js';

const NODE = new URL('../fixtures/cluster-node.js', import.meta.url).pathname;

/** A cluster node in a child process (test/fixtures/cluster-node.ts). */
export class NodeProcess {
  readonly proc: ChildProcess;
  out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(url: string, node: string, actors: string, heartbeatMs = 200, system?: string) {
    this.proc = spawn(process.execPath, [NODE, url, node, actors, String(heartbeatMs), ...(system ? [system] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })));
  }

  /** Resolves once it printed `up`; rejects with what it printed if it exits first. */
  async up(limitMs = 30_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!/^up$/m.test(this.out)) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`the node exited: ${this.out}`);
      if (Date.now() > deadline) throw new Error(`the node did not start: ${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<unknown> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/** Child nodes a test started; `stopAll` in afterEach kills what is left. */
export class NodeProcesses {
  readonly #all = new Set<NodeProcess>();

  start(url: string, node: string, actors: string, heartbeatMs = 200, system?: string): NodeProcess {
    const p = new NodeProcess(url, node, actors, heartbeatMs, system);
    this.#all.add(p);
    return p;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#all].map((p) => p.kill()));
    this.#all.clear();
  }
}

export const HEARTBEAT_MS = 200;
/** Generous: a node is counted down after 2 s of silence, not by a busy machine's slow timer. */
export const MISSES = 10;

/**
 * What every cluster suite sets up (call inside its `describe`): one real
 * nats-server for the suite (skipped with an install hint without one), a
 * system name of its own per test (`prefix` and a number; a test may set
 * another), and the systems and child nodes a test started stopped after
 * it. `node` starts an in-process node of the test's system with
 * `[id, fixture module]` actors.
 */
export function clusterSuite(prefix: string): {
  systems: Systems;
  children: NodeProcesses;
  server: NatsServer;
  name: string;
  tree: (...ids: Array<[id: string, module: string]>) => SystemOptions['tree'];
  node: (node: string, ...ids: Array<[string, string]>) => ReturnType<Systems['start']>;
} {
  const tree = (...ids: Array<[id: string, module: string]>): SystemOptions['tree'] => ({
    id: 'root',
    strategy: 'one_for_one',
    children: ids.map(([id, module]) => ({ id, module: actors(module) })),
  });
  const ctx = {
    systems: new Systems(),
    children: new NodeProcesses(),
    server: null as unknown as NatsServer,
    name: '',
    tree,
    node: (node: string, ...ids: Array<[string, string]>): ReturnType<Systems['start']> =>
      ctx.systems.start(tree(...ids), { name: ctx.name, cluster: { node, servers: ctx.server.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } }),
  };
  let n = 0;
  before(async function () {
    needNatsServer(this);
    ctx.server = await NatsServer.start({ jetstream: false });
  });
  after(async () => {
    await ctx.server?.dispose();
  });
  beforeEach(() => (ctx.name = `${prefix}${++n}`));
  afterEach(async () => {
    await ctx.systems.stopAll();
    await ctx.children.stopAll();
  });
  return ctx;
}
