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

/**
 * Longest a spawn's claim waits for the answers of the nodes it knows to be
 * up, ms. It is decided as soon as each has answered (or one objected), so
 * this is the wait only when a node is slow to answer or does not answer.
 */
export const SPAWN_CLAIM_MS = 1000;

/**
 * A claim (a joining node's name and actor ids, or a spawn's id: `ref` > 0),
 * or an answer to one (`live`: from a node that has joined; `actors`: the
 * ids objected to, none for a spawn claim's "no objection").
 */
export interface Claim {
  node: string;
  iid: string;
  actors: string[];
  live: boolean;
  /** 0: a join; otherwise the claimant's number for one spawn claim (answers repeat it). */
  ref: number;
}

/** A spawn claim of this node, open until decided. */
interface Spawning {
  id: string;
  ref: number;
  /** The nodes whose answers it waits for, known once the claim came back from the server (null before). */
  waiting: Set<string> | null;
  answered: Set<string>;
  /** The claim that beat it, once one did. */
  by: Claim | null;
  timer: NodeJS.Timeout;
  settle: (by: Claim | null) => void;
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
  const ref = Number.isSafeInteger(v.ref) && (v.ref as number) > 0 ? (v.ref as number) : 0;
  return { node: v.node, iid: v.iid, actors: Array.isArray(v.actors) ? v.actors.filter((a): a is string => typeof a === 'string') : [], live: v.live === true, ref };
}

/**
 * The race-free half of a join, and of a spawn: two nodes that start at the
 * same moment with the same name, or with an actor id in common, do not both
 * start, and two nodes that spawn one id at the same moment do not both host
 * it. Each claimant publishes a claim (its name, its run's id, the actor ids)
 * on the cluster's claim subject, having subscribed to it first. A node that
 * sees a conflicting claim objects to the claimant (straight to its reply
 * inbox) when it hosts the id already or when its own open claim beats the
 * other's (the smaller run id wins); otherwise its own claim has lost. Of
 * two claims at least one node sees the other's (each subscribed before it
 * published), so one of the two loses — provided the one that sees it
 * answers in time: within CLAIM_MS for a join; for a spawn, before the
 * claimant has every answer it waits for (every node it knows to be up
 * answers a spawn claim, objection or not) or SPAWN_CLAIM_MS has passed.
 */
export class Claims {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #inbox: string;
  readonly #mine: Claim;
  readonly #localIds: () => string[];
  readonly #upNodes: () => string[];
  readonly #subs: Subscription[] = [];
  /** Open spawn claims of this node, by actor id. */
  readonly #spawning = new Map<string, Spawning>();
  #lost: Claim | null = null;
  #lostTo: string[] = [];
  #sentAt = 0;
  #ref = 0;

  constructor(nc: NatsConnection, subject: string, node: string, iid: string, actors: readonly string[], localIds: () => string[], upNodes: () => string[]) {
    this.#nc = nc;
    this.#subject = subject;
    this.#inbox = `${subject}.r.${iid.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    this.#mine = { node, iid, actors: [...actors], live: false, ref: 0 };
    this.#localIds = localIds;
    this.#upNodes = upNodes;
  }

  /** Subscribe (for as long as the node runs), then claim. */
  async claim(): Promise<void> {
    const nc = this.#nc;
    this.#subs.push(nc.subscribe(this.#subject, { callback: (err, m) => void (err || this.#seen(m.data, m.reply)) }));
    this.#subs.push(nc.subscribe(this.#inbox, { callback: (err, m) => void (err || this.#answer(decodeClaim(m.data))) }));
    await nc.flush();
    nc.publish(this.#subject, packr.pack(this.#mine), { reply: this.#inbox });
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

  /** Is a spawn claim of `id` open on this node (the id is not hosted here yet)? */
  claiming(id: string): boolean {
    return this.#spawning.has(id);
  }

  /**
   * Claim actor id `id` for a spawn on this node (which has joined): resolves
   * with null once it is this node's (no node objected, each node known to
   * be up answered or SPAWN_CLAIM_MS passed), or with the claim or objection
   * that beat it. The caller has registered the id locally already (so a
   * second spawn of it here is refused as a duplicate) and keeps it out of
   * the heartbeat while the claim is open.
   */
  spawn(id: string): Promise<Claim | null> {
    return new Promise((settle) => {
      const s: Spawning = { id, ref: ++this.#ref, waiting: null, answered: new Set(), by: null, settle, timer: setTimeout(() => this.#decide(s), SPAWN_CLAIM_MS) };
      this.#spawning.set(id, s);
      this.#nc.publish(this.#subject, packr.pack({ ...this.#mine, actors: [id], live: false, ref: s.ref }), { reply: this.#inbox });
    });
  }

  close(): void {
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    for (const s of [...this.#spawning.values()]) this.#decide(s);
  }

  /** A claim on the claim subject: this node's own coming back, or another node's. */
  #seen(data: Uint8Array, reply: string | undefined): void {
    const c = decodeClaim(data);
    if (!c || c.live) return;
    if (c.iid === this.#mine.iid) return this.#echo(c.ref);
    const mine = this.#mine;
    const name = c.ref === 0 && c.node === mine.node;
    const hosted = mine.live ? new Set(this.#localIds()) : new Set(mine.actors);
    const ids: string[] = [];
    for (const id of c.actors) {
      const s = this.#spawning.get(id);
      if (s) {
        if (mine.iid < c.iid) ids.push(id);
        else this.#beaten(s, c);
      } else if (hosted.has(id)) ids.push(id);
    }
    if (!mine.live && (name || ids.length > 0) && mine.iid > c.iid) return this.#lose(c, ids);
    // A spawn claim is answered by every node that has joined (its claimant waits for them); a join claim only when objected to.
    if (reply && (name || ids.length > 0 || (c.ref > 0 && mine.live))) this.#nc.publish(reply, packr.pack({ node: mine.node, iid: mine.iid, actors: ids, live: mine.live, ref: c.ref }));
  }

  /** This node's spawn claim `ref` came back from the server: what it waits for is every node up now. */
  #echo(ref: number): void {
    const s = [...this.#spawning.values()].find((x) => x.ref === ref);
    if (!s || s.waiting) return;
    s.waiting = new Set(this.#upNodes().filter((n) => !s.answered.has(n)));
    if (s.waiting.size === 0) this.#decide(s);
  }

  /** An answer on this node's reply inbox: to its join claim (ref 0) or to one of its spawn claims. */
  #answer(c: Claim | null): void {
    if (!c || c.iid === this.#mine.iid) return;
    if (c.ref === 0) {
      if (!this.#mine.live) this.#lose(c, c.actors);
      return;
    }
    const s = [...this.#spawning.values()].find((x) => x.ref === c.ref);
    if (!s) return;
    if (c.actors.includes(s.id)) return this.#beaten(s, c);
    s.answered.add(c.node);
    s.waiting?.delete(c.node);
    if (s.waiting?.size === 0) this.#decide(s);
  }

  #beaten(s: Spawning, by: Claim): void {
    s.by ??= by;
    this.#decide(s);
  }

  #decide(s: Spawning): void {
    if (this.#spawning.get(s.id) !== s) return;
    this.#spawning.delete(s.id);
    clearTimeout(s.timer);
    s.settle(s.by);
  }

  #lose(by: Claim, ids: string[]): void {
    if (this.#lost) return;
    this.#lost = by;
    this.#lostTo = ids;
  }
}
