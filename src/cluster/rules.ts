import { InvalidOptionError } from '../errors.js';
import { systemAt } from './layout.js';
import type { Membership } from './membership.js';
import type { Proxies } from './proxies.js';

/**
 * Why actor id `id` cannot be spawned on this node, or null when it can:
 * actor ids are unique across a cluster, so an id another node hosts is
 * refused while that node is up, and while it is down for a reason it may
 * come back from (timeout, restarted, disconnected). A node that left (a
 * clean stop) gave its ids up: they can be spawned here.
 */
export function spawnConflict(members: Membership, system: string, id: string): InvalidOptionError | null {
  const w = members.where(id);
  if (!w || w.reason === 'left') return null;
  const why = w.up ? '' : `, which is down (${w.reason}) and may come back (its ids are free once it has left)`;
  return new InvalidOptionError('spawn.id', `'${id}' is hosted by node '${w.node}' of cluster '${system}'${why}; actor ids are unique across a cluster`);
}

/**
 * Node `node` left for good (a clean stop): the proxies of its main thread
 * and of its actor ids (those no other node hosts now) go, and the remote
 * senders it had, so its ids are free here — for a spawn, or for a node that
 * comes up hosting them later. Whatever a proxy still held fails as to a
 * node that is down.
 */
export function forgetNode(node: string, members: Membership, proxies: Proxies, senders: Map<string, string>): void {
  proxies.remove(systemAt(node));
  for (const [id, n] of senders) if (n === node) senders.delete(id);
  for (const id of members.actorsOf(node)) if (members.where(id)?.node === node) proxies.remove(id);
}

/** `p`, or nothing after `ms` (the timer does not outlive it). */
export async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
