/**
 * `npm run start:cluster`: the trading system of `npm start` as two or three
 * node processes of one cluster on this machine (cluster-node.ts; the split
 * is in cluster-plan.ts). Starts a local nats-server on a free port for it,
 * or uses NATS_URL; starts the nodes (the desk, with the ledger and the
 * feed, last), prints their lines under their names, and restarts a node
 * that dies while the run goes on. The desk ends the run (Ctrl-C, or after
 * RINGMASTER_DEMO_SECONDS) and prints the summary that balances across the
 * nodes; the launcher exits with the desk's exit code.
 *
 * Environment: NATS_URL; TRADING_CLUSTER_NODES (2 or 3, default 3);
 * TRADING_KILL=<node> and TRADING_KILL_AFTER=<s> (default 8): SIGKILL that
 * node once, that many seconds in, to watch node-down, the settled asks and
 * its restart and rejoin; `kill -9 <pid>` of a node (each prints its pid)
 * does the same by hand. TRADING_DATA_DIR: where the nodes keep their journals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { haveNatsServer, NATS_INSTALL_HINT, NatsServer } from '../../test/helpers/nats-server.js';
import { DESK, split } from './cluster-plan.js';

const NODE = new URL('./cluster-node.js', import.meta.url).pathname;
const count = process.env.TRADING_CLUSTER_NODES === '2' ? 2 : 3;
const names = Object.keys(split(count));
const others = names.filter((n) => n !== DESK);
const killWho = process.env.TRADING_KILL;
const killAfterS = Number(process.env.TRADING_KILL_AFTER ?? 8);
if (killWho !== undefined && !names.includes(killWho)) {
  console.error(`TRADING_KILL: '${killWho}' is not one of the nodes (${names.join(', ')})`);
  process.exit(2);
}

let server: NatsServer | null = null;
let url = process.env.NATS_URL;
if (!url) {
  if (!haveNatsServer()) {
    console.error(`${NATS_INSTALL_HINT}; or set NATS_URL to a running server`);
    process.exit(2);
  }
  server = await NatsServer.start({ jetstream: false });
  url = server.url;
  console.log(`nats-server on ${url}`);
} else console.log(`NATS at ${url}`);

const procs = new Map<string, ChildProcess>();
let ending = false;

/** Start node `name`; resolves once it printed that it is up (or exited). */
function start(name: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [NODE], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TRADING_NODE: name, NATS_URL: url, TRADING_CLUSTER_NODES: String(count) } });
  procs.set(name, p);
  let buf = '';
  return new Promise((resolve) => {
    p.stdout!.on('data', (d: Buffer) => {
      process.stdout.write(d);
      buf += d.toString();
      if (/\] up: /.test(buf)) resolve(p);
    });
    p.once('exit', (code, signal) => {
      resolve(p);
      if (procs.get(name) !== p) return;
      procs.delete(name);
      if (ending || name === DESK) return;
      console.log(`[launcher] node ${name} exited (${signal ?? code}): starting it again`);
      setTimeout(() => void start(name), 300);
    });
  });
}

console.log(`trading desk as a cluster of ${count} nodes: ${names.map((n) => `${n} (${split(count)[n]!.join(', ')})`).join(' · ')}`);
for (const n of others) await start(n);
const desk = start(DESK);
await desk;
const deskExit = new Promise<number>((r) => procs.get(DESK)?.once('exit', (code) => r(code ?? 1)) ?? r(1));
if (killWho) {
  setTimeout(() => {
    const p = procs.get(killWho);
    if (!p || ending) return;
    console.log(`[launcher] SIGKILL node ${killWho} (pid ${p.pid}), as TRADING_KILL says`);
    p.kill('SIGKILL');
  }, killAfterS * 1000).unref();
}
let signals = 0;
const onSignal = (sig: NodeJS.Signals): void => {
  // Ctrl-C in a terminal reaches every process of the group; passed on all the same, for a signal sent to this process alone.
  // The desk ends the run; the other nodes wait for its word. A second one ends everything at once.
  if (++signals > 1 || ending) {
    for (const p of procs.values()) p.kill('SIGKILL');
    process.exit(130);
  }
  procs.get(DESK)?.kill(sig);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const code = await deskExit;
ending = true;
// The desk told the others to exit; whoever is left gets a clean stop.
await Promise.all(
  [...procs.values()].map(
    (p) =>
      new Promise((r) => {
        if (p.exitCode !== null || p.signalCode !== null) return r(null);
        const t = setTimeout(() => p.kill('SIGTERM'), 3000);
        p.once('exit', () => r(clearTimeout(t)));
      }),
  ),
);
await server?.dispose();
process.exit(code);
