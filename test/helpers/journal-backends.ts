// The journal backends as the store-level contract (test/unit/persistence.test.ts)
// runs over them: each opens stores on a fresh, empty place per test, and can
// leave a corrupt event in a journal the way its storage would hold one.
import Database from 'better-sqlite3';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistenceStore } from '../../src/persistence/journal.js';
import type { JetStreamConfig } from '../../src/persistence/jetstream-connection.js';
import { JetStreamStore } from '../../src/persistence/jetstream.js';
import { subjectOf } from '../../src/persistence/jetstream-layout.js';
import { SqliteStore } from '../../src/persistence/sqlite.js';
import { NatsServer, needNatsServer } from './nats-server.js';

export interface Backend {
  readonly name: string;
  /** Once before the backend's tests (may skip them). */
  setup(ctx: Mocha.Context): Promise<void>;
  teardown(): Promise<void>;
  /** A new, empty place for the next test's journals. */
  fresh(): void;
  /** A store (on the current place) whose errors name `actor`. */
  open(actor: string): PersistenceStore;
  /** After event 1 of `pid` (written by `s` at `epoch`), store an event 2 that cannot be decoded. */
  corruptSecond(s: PersistenceStore, pid: string, epoch: number): Promise<void>;
  /** Undo `fresh`: remove what the test left. */
  cleanup(): void;
}

export class SqliteBackend implements Backend {
  readonly name = 'SQLite';
  dir = '';
  path = '';
  setup(): Promise<void> {
    return Promise.resolve();
  }
  teardown(): Promise<void> {
    return Promise.resolve();
  }
  fresh(): void {
    this.dir = mkdtempSync(join(tmpdir(), 'ringmaster-journal-'));
    this.path = join(this.dir, 'sub', 'j.db');
  }
  open(actor: string): PersistenceStore {
    return SqliteStore.open({ path: this.path, actor }, 'p');
  }
  async corruptSecond(s: PersistenceStore, pid: string, epoch: number): Promise<void> {
    await s.append(pid, epoch, 2, ['soon corrupt']);
    const db = new Database(this.path);
    db.prepare('UPDATE rm_journal SET event = ? WHERE pid = ? AND seq = 2').run(Buffer.from([0x92, 0x01]), pid);
    db.close();
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let systems = 0;

export class JetStreamBackend implements Backend {
  readonly name = 'JetStream';
  server: NatsServer | null = null;
  /** A plain connection of the test's own, to look at or tamper with the stream. */
  nc: NatsConnection | null = null;
  /** Each test's journals are a system of their own, so a stream of their own. */
  system = '';

  async setup(ctx: Mocha.Context): Promise<void> {
    needNatsServer(ctx);
    this.server = await NatsServer.start();
    this.nc = await connect({ servers: this.server.url });
  }
  async teardown(): Promise<void> {
    await this.nc?.close();
    await this.server?.dispose();
  }
  config(over: Partial<JetStreamConfig> = {}): JetStreamConfig {
    return { servers: [this.server!.url], stream: null, replicas: 1, connectTimeoutMs: 2000, timeoutMs: 5000, ...over };
  }
  fresh(): void {
    this.system = `t${++systems}-${process.pid}`;
  }
  open(actor: string, config?: JetStreamConfig): JetStreamStore {
    return JetStreamStore.open({ system: this.system, actor, config: config ?? this.config() });
  }
  /** Publish a message on `pid`'s subject as a writer would, or anything else. */
  async publishRaw(pid: string, body: Uint8Array, meta: Record<string, string>): Promise<number> {
    const h = headers();
    for (const [k, v] of Object.entries(meta)) h.set(k, v);
    return (await jetstream(this.nc!).publish(subjectOf(this.system, pid), body, { headers: h })).seq;
  }
  async corruptSecond(_s: PersistenceStore, pid: string, epoch: number): Promise<void> {
    // A message is never changed in a stream: a corrupt one can only arrive corrupt.
    await this.publishRaw(pid, new Uint8Array([0x92, 0x01]), { 'Rm-Kind': 'events', 'Rm-Epoch': String(epoch), 'Rm-Seq': '2', 'Rm-Snapshot': '0' });
  }
  cleanup(): void {}
}
