/**
 * How `npm run start:cluster` splits the trading tree across nodes, and the
 * messages its nodes coordinate the end of a run with. The desk node hosts
 * the ledger, the feed, the strategy and its indicator pool; `orders` hosts
 * risk and execution; `book` (with three nodes) hosts the portfolio.
 * Coordination goes over the cluster itself, as publishes between the nodes'
 * main threads (`trading.control` from the desk, `trading.done` back), so it
 * works the same with the nodes on several machines.
 */
import type { ChildSpec, SupervisorSpec, TreeSpec } from '../../src/index.js';

export const DESK = 'desk';

/** Node name → the actor ids it hosts, for 2 or 3 nodes. */
export function split(nodes: 2 | 3): Record<string, string[]> {
  return nodes === 2
    ? { [DESK]: ['ledger', 'portfolio', 'indicator', 'strategy', 'feed'], orders: ['risk', 'execution'] }
    : { [DESK]: ['ledger', 'indicator', 'strategy', 'feed'], orders: ['risk', 'execution'], book: ['portfolio'] };
}

/**
 * The part of the trading tree a node hosts: the children named in `ids`,
 * with their dependencies on actors of other nodes left out (a dependency
 * orders starts within one tree; across nodes the cluster's membership says
 * when the other side is there).
 */
export function nodeTree(tree: TreeSpec, ids: readonly string[]): SupervisorSpec {
  if (!('children' in tree)) throw new Error(`the trading tree's root '${tree.id}' is not a supervisor`);
  const wanted = new Set(ids);
  const missing = ids.filter((id) => !tree.children.some((c) => c.id === id));
  if (missing.length > 0) throw new Error(`the trading tree has no ${missing.map((m) => `'${m}'`).join(', ')}`);
  const children = tree.children
    .filter((c) => wanted.has(c.id))
    .map((c) => ('dependencies' in c && c.dependencies ? { ...c, dependencies: c.dependencies.filter((d) => wanted.has(d)) } : c) as ChildSpec);
  return { ...tree, children };
}

export const CONTROL = 'trading.control';
export const DONE = 'trading.done';

/** From the desk to every node: how much mail its stages hold; stop these actors (those it hosts, in this order); name the dead-lettered orders; exit. */
export type Control = { cmd: 'depth'; seq: number } | { cmd: 'stop'; ids: string[]; seq: number } | { cmd: 'dead-letters'; seq: number } | { cmd: 'exit'; seq: number };

/** A node's answer to a control message. */
export interface Done {
  node: string;
  seq: number;
  /** `dead-letters`: the ids of the orders that died as dead letters on this node. */
  ids?: string[];
  /** `depth`: the messages waiting in the inboxes of its actors, and whether each of them is running. */
  depth?: number;
  running?: boolean;
}
