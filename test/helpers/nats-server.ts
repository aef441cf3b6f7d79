// A real nats-server for tests: started with JetStream on a free port and a
// temporary store folder, stopped (and the folder removed) after. It can be
// stopped and started again on the same port and folder (a server restart,
// its streams kept), and given more arguments (a cluster's routes).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_INSTALL_HINT =
  "nats-server is not installed: install Debian's `nats-server` package (apt-get install --no-install-recommends nats-server), or point NATS_SERVER at the binary";

/** The binary: $NATS_SERVER, or nats-server from PATH. */
export function natsServerBinary(): string {
  return process.env.NATS_SERVER || 'nats-server';
}

export function haveNatsServer(): boolean {
  const probe = spawnSync(natsServerBinary(), ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

/** Without nats-server: fail under CI (it must have it), otherwise say what to install and skip. */
export function needNatsServer(ctx: Mocha.Context): void {
  if (haveNatsServer()) return;
  if (process.env.CI === 'true') throw new Error(`${NATS_INSTALL_HINT}; CI must have it`);
  console.log(`      skipped: ${NATS_INSTALL_HINT}`);
  ctx.skip();
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface NatsServerOptions {
  /** Default: a free port. */
  port?: number;
  /** The JetStream store folder; default a new temporary one (removed by `dispose`). */
  storeDir?: string;
  /** Without JetStream (`-js` left out): a plain NATS server. */
  jetstream?: boolean;
  /** More command-line arguments (`--cluster`, `--routes`, `--server_name`, `--max_payload` …). */
  args?: string[];
  /** How long a start may take before it fails, ms. */
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  readonly #ownDir: boolean;
  readonly #o: NatsServerOptions;
  #proc: ChildProcess | null = null;
  #log = '';

  private constructor(port: number, storeDir: string, ownDir: boolean, o: NatsServerOptions) {
    this.port = port;
    this.storeDir = storeDir;
    this.#ownDir = ownDir;
    this.#o = o;
  }

  /** Start a server and resolve once it takes connections. */
  static async start(o: NatsServerOptions = {}): Promise<NatsServer> {
    const port = o.port ?? (await freePort());
    const own = o.storeDir === undefined;
    const dir = o.storeDir ?? mkdtempSync(join(tmpdir(), 'ringmaster-nats-'));
    const server = new NatsServer(port, dir, own, o);
    try {
      await server.#spawn();
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#proc !== null;
  }

  /** What the server printed (its log goes to stderr). */
  get log(): string {
    return this.#log;
  }

  async #spawn(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), ...(this.#o.jetstream === false ? [] : ['-js', '-sd', this.storeDir]), ...(this.#o.args ?? [])];
    const proc = spawn(natsServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    running.add(proc);
    const onData = (d: Buffer): void => {
      this.#log += d.toString();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', reject);
      proc.once('exit', (code, signal) => reject(new Error(`nats-server exited before it was ready (${code ?? signal}):\n${this.#log}`)));
    });
    exited.catch(() => {});
    proc.once('exit', () => {
      running.delete(proc);
      if (this.#proc === proc) this.#proc = null;
    });
    const limit = this.#o.readyTimeoutMs ?? 10_000;
    let gaveUp = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`nats-server was not ready in ${limit} ms:\n${this.#log}`)), limit);
    });
    try {
      await Promise.race([this.#ready(() => this.#proc === proc && !gaveUp), exited, timeout]);
    } catch (err) {
      gaveUp = true;
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ready: it said so, and its port takes a connection (polling while `alive`). */
  async #ready(alive: () => boolean): Promise<void> {
    while (!/Server is ready/.test(this.#log)) {
      if (!alive()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    while (alive()) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port: this.port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stop the server (`signal`: SIGTERM, or SIGKILL for a crash); its store folder stays. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** Start it again on the same port and store folder (after `stop`, or stopping it now). */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    this.#log = '';
    await this.#spawn();
  }

  /** Stop it and remove the store folder it made. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.#ownDir) rmSync(this.storeDir, { recursive: true, force: true });
  }
}
