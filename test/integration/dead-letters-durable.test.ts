import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttp, type HttpServer } from '../../src/index.js';
import type { StoredDeadLetter } from '../../src/persistence/dead-letter-store.js';
import type { EchoMsg } from '../fixtures/actors/echo.js';
import { cleanEnv, MAIN } from './cli-helpers.js';
import { actors, Systems, until } from './system-helpers.js';

const TOKEN = 'dl-token';
/** The command line, run without blocking this process (which serves the HTTP it talks to). */
const cli = (args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(process.execPath, [MAIN, ...args], { env, encoding: 'utf8' });

describe('durable dead letters (real workers, a real database file, HTTP and the command line)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  let dir: string;
  let http: HttpServer | null = null;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-dl-'))));
  afterEach(async () => {
    await http?.close();
    http = null;
    await systems.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const tree = { id: 'root', strategy: 'one_for_one' as const, children: [{ id: 'e', module: actors('echo') }, { id: 'f', module: actors('echo') }] };
  // e with a mailbox of one place, to make dead letters; after the restart, without it, to take the replay.
  const bounded = { ...tree, children: [{ id: 'e', module: actors('echo'), mailbox: { capacity: 1, overflow: 'drop-newest' as const } }, tree.children[1]!] };
  const start = (t: typeof tree | typeof bounded = tree): ReturnType<Systems['start']> => systems.start(t, { persistence: { path: join(dir, 'sys.db'), deadLetters: true } });

  it('keeps dead letters across a restart of the system, filters them, and replays each once, marking it', async () => {
    const first = (await start(bounded)).system;
    const before = Date.now();
    // The sleep takes the mailbox's one place: the three records after it are dropped, dead letters.
    first.ref<EchoMsg>('e').tell({ op: 'sleep', ms: 300 });
    for (const seq of [1, 2, 3]) first.ref<EchoMsg>('e').tell({ op: 'record', seq });
    await until(() => first.deadLetterCount >= 3, 'three dead letters');
    await systems.stopAll();

    const { system } = await start();
    const archive = system.deadLetterArchive!;
    const kept = archive.list({ actor: 'e' });
    expect(kept.map((l) => [l.to, l.from, l.kind, (l.payload as { seq: number }).seq])).to.deep.equal([
      ['e', '$system', 'tell', 3],
      ['e', '$system', 'tell', 2],
      ['e', '$system', 'tell', 1],
    ]);
    expect(kept[0]!.reason).to.match(/mailbox/);
    expect(kept[0]!.dropped).to.equal('drop-newest');
    expect(kept[0]!.at).to.be.at.least(before);
    expect(archive.list({ actor: 'f' })).to.deep.equal([]);
    expect(archive.list({ since: Date.now() + 60_000 })).to.deep.equal([]);

    http = await startHttp(system, { port: 0, token: TOKEN });
    const listed = (await (await fetch(`${http.url}/api/dead-letters?actor=e&limit=2`)).json()) as StoredDeadLetter[];
    expect(listed.map((l) => l.id)).to.deep.equal(kept.slice(0, 2).map((l) => l.id));
    expect((await fetch(`${http.url}/api/dead-letters/${kept[2]!.id}`).then((r) => r.json())) as StoredDeadLetter).to.deep.include({ id: kept[2]!.id, to: 'e' });
    const refused = await fetch(`${http.url}/api/dead-letters/replay`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(refused.status).to.equal(401);

    const post = (body: string): Promise<Response> => fetch(`${http!.url}/api/dead-letters/replay`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
    // A body that is not a filter is refused, not taken for "everything".
    expect((await post('[1]')).status).to.equal(400);
    const unknown = await post('{"id": 6}');
    expect(unknown.status).to.equal(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).to.include('unknown field id');
    // A limit takes the oldest first.
    const oldest = await post(JSON.stringify({ actor: 'e', limit: 1 }));
    expect(((await oldest.json()) as { replayed: number[] }).replayed).to.deep.equal([kept[2]!.id]);
    const replay = await post(JSON.stringify({ actor: 'e' }));
    expect(((await replay.json()) as { replayed: number[] }).replayed).to.deep.equal([kept[1]!.id, kept[0]!.id]);
    // Delivered in their order, to the running actor.
    expect(await system.ref<EchoMsg>('e').ask({ op: 'records' })).to.deep.equal([1, 2, 3]);
    expect(archive.list({ actor: 'e' }).every((l) => typeof l.replayedAt === 'number')).to.equal(true);
    expect(archive.replay({ actor: 'e' }), 'a replayed letter is not replayed again').to.deep.equal([]);

    // The command line, over the same API.
    const env = cleanEnv({ RINGMASTER_HTTP_TOKEN: TOKEN });
    const list = await cli(['dead-letters', 'list', '--actor', 'e', '--url', http.url], env);
    expect(list.stdout.trim().split('\n')).to.have.length(3);
    expect(list.stdout).to.include('$system → e:').and.include('(replayed ');
    const show = await cli(['dead-letters', 'show', String(kept[0]!.id), '--url', http.url], env);
    expect(JSON.parse(show.stdout)).to.deep.include({ id: kept[0]!.id, payload: { op: 'record', seq: 3 } });
    const again = await cli(['dead-letters', 'replay', '--url', http.url], env);
    expect(again.stdout.trim()).to.equal('replayed 0 dead letters');
  });

  it('answers 404 with how to turn them on when the system does not keep dead letters', async () => {
    const { system } = await systems.start(tree);
    expect(system.deadLetterArchive).to.equal(null);
    http = await startHttp(system, { port: 0 });
    const r = await fetch(`${http.url}/api/dead-letters`);
    expect(r.status).to.equal(404);
    expect(((await r.json()) as { error: { message: string } }).error.message).to.include('persistence.deadLetters');
  });
});
