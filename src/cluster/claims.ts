// Types only (erased from the build): the NATS client is loaded with import() when a node joins.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Packr, Unpackr } from 'msgpackr/pack';
import { InvalidOptionError } from '../errors.js';
import { NODE_NAME } from './layout.js';

/**
 * How long a joining node's claim stays open for objections, ms: every node
 * that sees the claim (a live one, or one joining at the same moment) and
 * has it beaten answers within this window, or it does not count.
 */
export const CLAIM_MS = 300;

/** A claim (a joining node's name and actor ids), or an objection to one (`live`: from a node that has joined). */
interface Claim {
  node: string;
  iid: string;
  actors: string[];
  live: boolean;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

function decodeClaim(data: Uint8Array): Claim | null {
  let v: Partial<Claim> | null;
  try {
    v = unpackr.unpack(data) as Partial<Claim> | null;
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || typeof v.node !== 'string' || !NODE_NAME.test(v.node) || typeof v.iid !== 'string') return null;
  return { node: v.node, iid: v.iid, actors: Array.isArray(v.actors) ? v.actors.filter((a): a is string => typeof a === 'string') : [], live: v.live === true };
}

/**
 * The race-free half of a join: two nodes that start at the same moment
 * with the same name, or with an actor id in common, do not both start.
 * Each joining node publishes a claim (its name, its run's id, its tree's
 * actor ids) on the cluster's claim subject, having subscribed to it first,
 * and waits CLAIM_MS. A node that sees a conflicting claim objects to the
 * claimant (straight to its reply inbox) when it has joined already or when
 * its own claim beats the other's (the smaller run id wins); otherwise it
 * has lost and refuses itself. Of two claims at least one node sees the
 * other's (each subscribed before it published), so one of the two is
 * refused — provided the one that sees it handles it within CLAIM_MS.
 */
export class Claims {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #mine: Claim;
  readonly #localIds: () => string[];
  readonly #subs: Subscription[] = [];
  #lost: Claim | null = null;
  #lostTo: string[] = [];
  #sentAt = 0;

  constructor(nc: NatsConnection, subject: string, node: string, iid: string, actors: readonly string[], localIds: () => string[]) {
    this.#nc = nc;
    this.#subject = subject;
    this.#mine = { node, iid, actors: [...actors], live: false };
    this.#localIds = localIds;
  }

  /** Subscribe (for as long as the node runs), then claim. */
  async claim(): Promise<void> {
    const nc = this.#nc;
    const inbox = `${this.#subject}.r.${this.#mine.iid.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    this.#subs.push(nc.subscribe(this.#subject, { callback: (err, m) => void (err || this.#seen(m.data, m.reply)) }));
    this.#subs.push(nc.subscribe(inbox, { callback: (err, m) => void (err || this.#objection(decodeClaim(m.data))) }));
    await nc.flush();
    nc.publish(this.#subject, packr.pack(this.#mine), { reply: inbox });
    await nc.flush();
    this.#sentAt = Date.now();
  }

  /** Once CLAIM_MS has passed since the claim reached the server: the error that refuses this node, or null. */
  async verdict(system: string): Promise<InvalidOptionError | null> {
    const left = this.#sentAt + CLAIM_MS - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    const by = this.#lost;
    if (!by) {
      this.#mine.live = true; // from now on every conflicting claim is objected to
      return null;
    }
    const when = by.live ? 'a live node' : 'a node starting at the same moment (its claim won)';
    if (by.node === this.#mine.node) {
      return new InvalidOptionError('cluster.node', `'${by.node}' is taken: ${when} of system '${system}' claimed it; node names are unique in a cluster`);
    }
    const list = this.#lostTo.map((id) => `'${id}' (on node '${by.node}')`).join(', ');
    return new InvalidOptionError('tree', `hosts actor ids ${when} of cluster '${system}' claims as well: ${list}; actor ids are unique across a cluster`);
  }

  close(): void {
    for (const s of this.#subs.splice(0)) s.unsubscribe();
  }

  /** What of claim `c` conflicts with this node: its name, or actor ids in common. */
  #overlap(c: Claim): { name: boolean; ids: string[] } {
    const mine = new Set(this.#mine.live ? this.#localIds() : this.#mine.actors);
    return { name: c.node === this.#mine.node, ids: c.actors.filter((id) => mine.has(id)) };
  }

  /** Another node's claim on the claim subject (this node's own comes back too: ignored). */
  #seen(data: Uint8Array, reply: string | undefined): void {
    const c = decodeClaim(data);
    if (!c || c.iid === this.#mine.iid || c.live) return;
    const o = this.#overlap(c);
    if (!o.name && o.ids.length === 0) return;
    if (this.#mine.live || this.#mine.iid < c.iid) {
      if (reply) this.#nc.publish(reply, packr.pack({ node: this.#mine.node, iid: this.#mine.iid, actors: o.ids, live: this.#mine.live }));
    } else this.#lose(c, o.ids);
  }

  #objection(c: Claim | null): void {
    if (c && c.iid !== this.#mine.iid) this.#lose(c, c.actors);
  }

  #lose(by: Claim, ids: string[]): void {
    if (this.#lost) return;
    this.#lost = by;
    this.#lostTo = ids;
  }
}
