/**
 * One node of the trading system run as a cluster (`npm run start:cluster`
 * starts two or three of these; on several machines, start one per machine
 * by hand, see docs/cluster.md). It hosts its part of the trading tree
 * (examples/trading/trading.yaml split by cluster-plan.ts), prints what the
 * cluster does (node-up, node-down, crashes, restarts), and takes the desk's
 * control messages. The desk node (the one with the ledger) trades for
 * RINGMASTER_DEMO_SECONDS or until SIGINT/SIGTERM, then drains, reconciles
 * and prints the summary, and tells the other nodes to exit.
 *
 * Environment: TRADING_NODE (desk | orders | book), NATS_URL (default
 * nats://127.0.0.1:4222), TRADING_CLUSTER_NODES (2 or 3, default 3: which
 * split), TRADING_ACTORS (ids, comma-separated, instead of the split's),
 * TRADING_DATA_DIR (journals, default data/), RINGMASTER_CONFIG.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActorSystem, loadConfig, toSystemOptions, type SupervisorSpec, type TreeSpec } from '../../src/index.js';
import { Desk, deadOrders } from './cluster-desk.js';
import { CONTROL, DESK, DONE, nodeTree, split, type Control, type Done } from './cluster-plan.js';
import type { Order } from './shared.js';

const node = process.env.TRADING_NODE ?? DESK;
const nodes = process.env.TRADING_CLUSTER_NODES === '2' ? 2 : 3;
const ids = process.env.TRADING_ACTORS?.split(',').filter(Boolean) ?? split(nodes)[node];
if (!ids) {
  console.error(`TRADING_NODE '${node}' is not a node of the ${nodes}-node split (${Object.keys(split(nodes)).join(', ')}); set TRADING_ACTORS to name its actors`);
  process.exit(2);
}
const say = (line: string): void => void process.stdout.write(`${line.split('\n').map((l) => (l ? `[${node}] ${l}` : l)).join('\n')}\n`);
const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const dataDir = resolve(process.env.TRADING_DATA_DIR ?? 'data');
mkdirSync(dataDir, { recursive: true });

const configFile = process.env.RINGMASTER_CONFIG ?? fileURLToPath(new URL('../../../examples/trading/trading.yaml', import.meta.url));
const base = toSystemOptions((await loadConfig(configFile)).config);
const isDesk = ids.includes('ledger');
// As run.ts does: this run's id in the ledger's and the strategy's config (order ids unique across runs in the journal).
const run = randomUUID();
const withRun = (t: SupervisorSpec): SupervisorSpec => ({ ...t, children: t.children.map((c: TreeSpec) => (c.id === 'ledger' || c.id === 'strategy' ? { ...c, config: { ...((c as { config?: object }).config ?? {}), run } } : c)) as TreeSpec[] });

let system: ActorSystem;
try {
  system = await ActorSystem.start({
    ...base,
    tree: withRun(nodeTree(base.tree, ids)),
    log: { level: 'error' },
    persistence: { ...base.persistence, path: join(dataDir, `trading-${node}.db`) },
    cluster: { node, servers, heartbeatMs: 500, misses: 4 },
    deadLetterLimit: 1_000_000,
  });
} catch (err) {
  say(`could not start: ${(err as Error).message}`);
  process.exit(3);
}
system.on('*', (e) => {
  if (e.type === 'node-up') say(`▲ node ${e.node} up`);
  else if (e.type === 'node-down') say(`▼ node ${e.node} down (${e.reason})`);
  else if (e.type === 'crashed') say(`✗ ${e.actor} #${e.incarnation} crashed (${e.cause}): ${e.reason}`);
  else if (e.type === 'restarted') say(`↻ ${e.actor} is back as incarnation ${e.incarnation}`);
  else if (e.type === 'dead-letter' && (e.letter.payload as Order | null)?.type === 'order') say(`✉ order ${(e.letter.payload as Order).id} dead-lettered for ${e.letter.to} (${e.letter.reason.split(':')[0]})`);
});
say(`up: ${ids.join(', ')} (pid ${process.pid}, NATS ${servers}, journal ${join(dataDir, `trading-${node}.db`)})`);

const exit = async (code: number): Promise<never> => {
  await system.stop().catch(() => {});
  process.exit(code);
};

if (isDesk) {
  const desk = new Desk(system, say);
  desk.startStatus();
  const seconds = Number(process.env.RINGMASTER_DEMO_SECONDS ?? 0);
  const why = await new Promise<string>((r) => {
    if (seconds > 0) setTimeout(() => r('time up'), seconds * 1000).unref();
    process.on('SIGINT', () => r('SIGINT'));
    process.on('SIGTERM', () => r('SIGTERM'));
  });
  const ok = await desk.finish(why).catch((err: unknown) => {
    say(`the end of the run failed: ${(err as Error).message}`);
    return false;
  });
  await desk.control({ cmd: 'exit' }, 3000);
  await exit(ok ? 0 : 1);
} else {
  // Ctrl-C in a terminal reaches every process of the group: the desk ends the run, this node waits for its word.
  process.on('SIGINT', () => {});
  process.once('SIGTERM', () => void exit(0));
  system.subscribe<Control>(CONTROL, async (c) => {
    const answer: Done = { node, seq: c.seq };
    if (c.cmd === 'stop') {
      for (const id of c.ids) if (ids.includes(id)) await system.stopActor(id).catch((err: unknown) => say(`stopping ${id}: ${(err as Error).message}`));
    } else if (c.cmd === 'dead-letters') answer.ids = deadOrders(system);
    else if (c.cmd === 'depth') {
      const stages = system.status().filter((s) => ids.includes(s.id));
      answer.depth = stages.reduce((n, s) => n + s.inboxDepth, 0);
      answer.running = stages.every((s) => s.state === 'running');
    }
    system.publish(DONE, answer);
    if (c.cmd === 'exit') setTimeout(() => void exit(0), 200);
  });
}
