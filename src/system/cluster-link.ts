import type { Logger } from 'pino';
import { Codec } from '../codec/envelope.js';
import { ClusterNode } from '../cluster/node.js';
import type { ClusterConfig } from '../cluster/options.js';
import { nodeOfSystemId } from '../cluster/layout.js';
import type { DeadLetter, EventInput } from '../events.js';
import type { Wiring } from '../transport/wiring.js';
import type { MainEndpoint } from './endpoint.js';
import type { TreeRegistry } from './registry.js';
import type { ShutdownTasks } from './shutdown.js';
import type { Topics } from './topics.js';
import type { SystemWatches } from './watches.js';

export type { ClusterNode };
export type { NodeInfo } from '../cluster/membership.js';

/** What of a system its cluster node uses. */
export interface ClusterParts {
  name: string;
  log: Logger;
  wiring: Wiring;
  maxMessageBytes: number;
  senderSlots: number;
  endpoint: MainEndpoint;
  tree: TreeRegistry;
  topics: Topics;
  tasks: ShutdownTasks;
  watches: SystemWatches;
  emit(e: EventInput): void;
  deadLetter(letter: Omit<DeadLetter, 'at'>): void;
}

/**
 * Make this system a node of cluster `c` and join it (before the tree
 * starts: a taken node name or actor id stops the start). Messages from
 * other nodes enter local inboxes through the main thread's own sender, as
 * a `tell` from here does, with the remote sender's id as `from`; answers
 * to this node's asks settle through the endpoint. The node leaves first
 * thing in a stop and closes once the actors have stopped.
 */
export async function joinCluster(c: ClusterConfig, p: ClusterParts): Promise<ClusterNode> {
  const { endpoint, tree, topics } = p;
  const remote = (id: string): boolean => nodeOfSystemId(id) !== undefined;
  const node = new ClusterNode(c, p.name, { wiring: p.wiring, codec: new Codec({ maxMessageBytes: p.maxMessageBytes }), senderSlots: p.senderSlots }, {
    log: p.log,
    emit: (e) => p.emit(e),
    localIds: () => [...tree.cells.keys()],
    isLocal: (id) => tree.cells.has(id),
    send: (env) => endpoint.sender.send(env),
    sendFrame: (env, frame, lane) => endpoint.sender.sendFrame(env, frame, lane),
    answer: (env) => endpoint.replyFromMain(env),
    settleAsk: (asker, id, err) => endpoint.settleAsk(asker, id, err),
    deadLetter: (l) => p.deadLetter(l),
    localPatterns: () => [...new Set(topics.list().flatMap((s) => (remote(s.subscriber) ? [] : [s.pattern])))],
    remotePatterns: (subscriber, patterns) => {
      const want = new Set(patterns);
      for (const pattern of topics.table.patternsOf(subscriber)) if (!want.delete(pattern)) topics.table.unsubscribe(subscriber, pattern);
      for (const pattern of want) {
        try {
          topics.table.subscribe(subscriber, pattern, 'cluster');
        } catch (err) {
          p.log.warn({ err, subscriber, pattern }, 'cluster: a pattern from another node was refused');
        }
      }
    },
    watches: { fromNode: (from, m) => p.watches.fromNode(from, m) },
    topic: (env) => {
      const asked = topics.fromNode(env, remote);
      asked?.then(
        (v) => endpoint.reply(env, v),
        (err: unknown) => endpoint.reply(env, undefined, err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
  endpoint.direct = (env) => node.sendDirect(env);
  p.tasks.add('before-actors', () => node.leave());
  p.tasks.add('after-actors', () => node.close());
  await node.join([...tree.cells.keys()]);
  tree.guard = (id) => node.checkSpawn(id);
  return node;
}
