// Types only (erased from the build): the NATS client is loaded with import() when a node joins.
import type { NatsConnection } from '@nats-io/transport-node';
import { ActorIdTakenError } from '../errors.js';
import type { Claim } from './claims.js';
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
export function spawnConflict(members: Membership, system: string, id: string): ActorIdTakenError | null {
  const w = members.where(id);
  if (!w || w.reason === 'left') return null;
  const why = w.up ? '' : `, which is down (${w.reason}) and may come back (its ids are free once it has left)`;
  return new ActorIdTakenError(id, w.node, `spawn.id '${id}' is hosted by node '${w.node}' of cluster '${system}'${why}; actor ids are unique across a cluster`);
}

/**
 * The error of a spawn of `id` whose claim lost to `by` (claims.ts): the
 * objection of a node that hosts the id or whose own claim of it won, or
 * the claim of a node spawning it, or starting with it, at the same moment.
 */
export function spawnLost(system: string, id: string, by: Claim): ActorIdTakenError {
  const how = by.live ? 'hosts it, or claimed it at the same moment and its claim won' : by.ref > 0 ? 'spawned it at the same moment and its claim won' : 'started with it at the same moment and its claim won';
  return new ActorIdTakenError(id, by.node, `spawn.id '${id}' is taken: node '${by.node}' of cluster '${system}' ${how}; actor ids are unique across a cluster`);
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

/** How long a joining node waits for more members after the first answer to `who`, ms. */
const WHO_STALL_MS = 250;

/** A joining node's question on `who`: every answer (a member's heartbeat) to `beat`, until none came for WHO_STALL_MS (at most heartbeatMs). */
export async function askWho(nc: NatsConnection, who: string, heartbeatMs: number, beat: (data: Uint8Array) => void): Promise<void> {
  try {
    const answers = await nc.requestMany(who, undefined, { strategy: 'stall', stall: WHO_STALL_MS, maxWait: Math.max(heartbeatMs, 1000) });
    for await (const m of answers) beat(m.data);
  } catch {
    // no responders: the first node of the cluster
  }
}
