import type { Logger } from 'pino';
import { Codec } from '../codec/envelope.js';
import { ClusterNode } from '../cluster/node.js';
import type { ClusterConfig } from '../cluster/options.js';
import type { DeadLetter, EventInput } from '../events.js';
import type { Wiring } from '../transport/wiring.js';
import type { MainEndpoint } from './endpoint.js';
import type { TreeRegistry } from './registry.js';
import type { ShutdownTasks } from './shutdown.js';

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
  tasks: ShutdownTasks;
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
  const { endpoint, tree } = p;
  const node = new ClusterNode(c, p.name, { wiring: p.wiring, codec: new Codec({ maxMessageBytes: p.maxMessageBytes }), senderSlots: p.senderSlots }, {
    log: p.log,
    emit: (e) => p.emit(e),
    localIds: () => [...tree.cells.keys()],
    isLocal: (id) => tree.cells.has(id),
    send: (env) => endpoint.sender.send(env),
    answer: (env) => endpoint.replyFromMain(env),
    settleAsk: (asker, id, err) => endpoint.settleAsk(asker, id, err),
    deadLetter: (l) => p.deadLetter(l),
  });
  p.tasks.add('before-actors', () => node.leave());
  p.tasks.add('after-actors', () => node.close());
  await node.join([...tree.cells.keys()]);
  return node;
}
