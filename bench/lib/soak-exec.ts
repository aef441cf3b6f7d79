/**
 * Carrying out the plan on a running system: each op becomes tells, asks,
 * publishes, requests, faults, tree operations or a dynamic child's life,
 * and is entered in the ledger as it is sent.
 */
import type { ActorSystem, SupervisorSpec, SystemEvent } from '../../src/index.js';
import type { SoakMsg } from '../../test/fixtures/soak/soak-actor.js';
import type { Ledger } from './soak-ledger.js';
import { FAULT_ASK_TIMEOUT_MS, isDyn, UNDECODABLE_ASK_TIMEOUT_MS, type DynChain, type Op } from './soak-plan.js';
import { bump, codeOf, failed, matches, Mutex, newStats, sleep, staticTree, type EscalationRecord, type ReloadRecord, type TreeOpStats } from './soak-ops.js';
import { Rng } from './soak-rng.js';
import { DYN_SUPERVISOR, ESC_SUPERVISOR, findChild, invalidReload, validReload, VICTIM, type SoakTree } from './soak-tree.js';

export type { EscalationRecord, ExecStats, ReloadRecord, TreeOpStats } from './soak-ops.js';

export class Executor {
  readonly stats = newStats();
  readonly #system: ActorSystem;
  readonly #ledger: Ledger;
  readonly #tree: SoakTree;
  readonly #t0: number;
  readonly #lock = new Mutex();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #waiters = new Set<(e: SystemEvent) => void>();
  /** The tree applyTree last accepted (reloads are drawn from it). */
  current: SupervisorSpec;

  constructor(system: ActorSystem, ledger: Ledger, tree: SoakTree, t0: number) {
    this.#system = system;
    this.#ledger = ledger;
    this.#tree = tree;
    this.#t0 = t0;
    this.current = tree.spec;
  }

  /** Every system event passes here (for the waits of the escalation check). */
  onEvent(e: SystemEvent): void {
    for (const w of [...this.#waiters]) w(e);
  }

  until(t: number): Promise<void> {
    return sleep(this.#t0 + t - performance.now());
  }

  /** Carry out `ops` in time order; resolves once the last one is sent (not when what it started has finished). */
  async run(ops: readonly Op[]): Promise<void> {
    let burst = 0;
    for (const op of ops) {
      const wait = this.#t0 + op.t - performance.now();
      if (wait > 1) {
        await sleep(wait);
        burst = 0;
      } else if (++burst % 64 === 0) await new Promise((r) => setImmediate(r));
      this.dispatch(op);
    }
  }

  /** Resolves once every tree operation, dynamic child's life and check started so far has finished. */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #task(p: Promise<unknown>): void {
    const t = p.catch(() => {}).finally(() => this.#tasks.delete(t));
    this.#tasks.add(t);
  }

  dispatch(op: Op): void {
    if (this.#system.state !== 'running') {
      this.stats.skipped++;
      return;
    }
    const L = this.#ledger;
    const now = performance.now();
    switch (op.type) {
      case 'tell':
        this.#tell(op.to, { op: 'count', id: op.id }, op.priority === 'high' ? 'tell-high' : 'tell', op.priority);
        return;
      case 'ask':
        this.#ask(op.to, { op: 'count', id: op.id }, 'ask', op.timeout);
        return;
      case 'publish': {
        L.count(op.subject === 'data.dyn' ? 'publish-dyn' : 'publish');
        const receivers = this.#receivers(op.subject);
        L.expectFanout({ id: op.id, kind: 'publish', subject: op.subject, receivers, reached: null, request: false, sentAt: now });
        const reached = this.#system.publish(op.subject, { op: 'count', id: op.id } satisfies SoakMsg);
        L.fanouts.get(op.id)!.reached = reached;
        if (reached !== receivers.length) this.stats.publishCountMismatch.push({ id: op.id, subject: op.subject, expected: receivers.length, reached });
        return;
      }
      case 'request': {
        L.count('request');
        L.expectFanout({ id: op.id, kind: 'request', subject: op.subject, receivers: this.#receivers(op.subject), reached: null, request: true, sentAt: now });
        void L.track({ id: op.id, kind: 'request', target: op.subject, timeout: op.timeout, sentAt: now }, this.#system.request(op.subject, { op: 'count', id: op.id } satisfies SoakMsg, { timeout: op.timeout }));
        return;
      }
      case 'relay':
        this.#tell(op.via, { op: 'relay', id: op.id, to: op.to, inner: op.inner }, 'relay', undefined, op.inner);
        L.expectDirect({ id: op.inner, kind: isDyn(op.via) ? 'relay-inner (dyn→)' : 'relay-inner', to: op.to, dyn: isDyn(op.to), outer: op.id, sentAt: now });
        return;
      case 'peer-ask':
        this.#tell(op.via, { op: 'peer-ask', id: op.id, to: op.to, inner: op.inner, timeout: op.timeout }, 'peer-ask', undefined, op.inner);
        L.actorAsks.set(op.inner, { id: op.inner, kind: 'peer-ask', via: op.via, to: op.to, timeout: op.timeout, outer: op.id });
        return;
      case 'actor-publish':
        this.#tell(op.via, { op: 'publish', id: op.id, subject: op.subject, inner: op.inner }, 'actor-publish', undefined, op.inner);
        L.expectFanout({ id: op.inner, kind: 'actor-publish', subject: op.subject, receivers: null, reached: null, request: false, outer: op.id, sentAt: now });
        return;
      case 'actor-request':
        this.#tell(op.via, { op: 'request', id: op.id, subject: op.subject, inner: op.inner, timeout: op.timeout }, 'actor-request', undefined, op.inner);
        L.actorAsks.set(op.inner, { id: op.inner, kind: 'actor-request', via: op.via, to: op.subject, timeout: op.timeout, outer: op.id });
        L.expectFanout({ id: op.inner, kind: 'actor-request', subject: op.subject, receivers: null, reached: null, request: true, outer: op.id, sentAt: now });
        return;
      case 'fault': {
        bump(isDyn(op.to) ? this.stats.faultsOnDynamic : this.stats.faults, op.fault);
        const msg: SoakMsg = { op: 'fault', id: op.id, fault: op.fault };
        if (op.asAsk) this.#ask(op.to, msg, 'fault-ask', FAULT_ASK_TIMEOUT_MS, op.fault);
        else this.#tell(op.to, msg, 'fault', undefined, undefined, op.fault);
        return;
      }
      case 'undecodable': {
        bump(isDyn(op.to) ? this.stats.faultsOnDynamic : this.stats.faults, 'undecodable');
        // msgpack packs a Map with an object key; the receiver's decoder (maps as objects) cannot rebuild it.
        const msg = { op: 'count', id: op.id, blob: new Map<unknown, string>([[{ id: op.id }, 'x']]) };
        if (op.asAsk) this.#ask(op.to, msg, 'undecodable-ask', UNDECODABLE_ASK_TIMEOUT_MS, 'undecodable');
        else this.#tell(op.to, msg, 'undecodable', undefined, undefined, 'undecodable');
        return;
      }
      case 'operator-restart':
        bump(this.stats.faults, 'operator-restart');
        this.#task(this.#treeOp(this.stats.operatorRestarts, () => this.#system.restartActor(op.to)));
        return;
      case 'stop-start':
        bump(this.stats.faults, 'stop-start');
        this.#task(this.#stopStart(op.to, op.downMs));
        return;
      case 'reload-valid':
        this.#task(this.#lock.run(() => this.#reloadValid(op.kind, op.seed)));
        return;
      case 'reload-invalid':
        this.#task(this.#lock.run(() => this.#reloadInvalid(op.kind, op.seed)));
        return;
      case 'escalation':
        this.#task(this.#escalation(op.ids));
        return;
      case 'spawn':
        this.#task(this.#chain(op.chain));
        return;
    }
  }

  #tell(to: string, msg: SoakMsg | Record<string, unknown>, kind: string, priority?: 'high', inner?: number, fault?: DirectFault): void {
    this.#ledger.count(kind);
    this.#ledger.expectDirect({ id: msg.id as number, kind, to, dyn: isDyn(to), sentAt: performance.now(), ...(inner !== undefined ? { inner } : {}), ...(fault ? { fault } : {}) });
    // Only a `fail` mailbox throws (the soak sets none), and its message is dead-lettered too.
    try {
      this.#system.ref(to).tell(msg, priority ? { priority } : undefined);
    } catch {
      // accounted by its dead letter
    }
  }

  #ask(to: string, msg: SoakMsg | Record<string, unknown>, kind: string, timeout: number, fault?: DirectFault, expectRev?: number): Promise<void> {
    this.#ledger.count(kind);
    const rec = { id: msg.id as number, kind, target: to, timeout, sentAt: performance.now(), ...(fault ? { fault } : {}), ...(expectRev !== undefined ? { expectRev } : {}) };
    return this.#ledger.track(rec, this.#system.ref(to).ask(msg, { timeout }));
  }

  /** Who a main-thread publish on `subject` reaches, from the table the system publishes with. */
  #receivers(subject: string): string[] {
    const out = new Set<string>();
    for (const s of this.#system.subscriptions()) if (s.subscriber !== '$system' && matches(s.pattern, subject)) out.add(s.subscriber);
    return [...out];
  }

  #treeOp(stats: TreeOpStats, fn: () => Promise<unknown>): Promise<void> {
    return this.#lock.run(async () => {
      try {
        await fn();
        stats.ok++;
      } catch (err) {
        failed(stats, codeOf(err), err);
      }
    });
  }

  /** An operator stops a static actor for good, then brings it back: meanwhile its mail is dead-lettered. */
  async #stopStart(id: string, downMs: number): Promise<void> {
    const w = { actor: id, from: performance.now(), to: Infinity };
    this.#ledger.down.push(w);
    let ok = true;
    await this.#lock.run(() =>
      this.#system.stopActor(id).catch((err: unknown) => {
        ok = false;
        failed(this.stats.stopStarts, `stop: ${codeOf(err)}`, err);
      }),
    );
    await sleep(downMs);
    await this.#lock.run(() =>
      this.#system.restartActor(id).catch((err: unknown) => {
        ok = false;
        failed(this.stats.stopStarts, `restart: ${codeOf(err)}`, err);
      }),
    );
    // Dead letters that peers' threads report reach the main thread a moment after the restart.
    w.to = performance.now() + 1000;
    if (ok) this.stats.stopStarts.ok++;
  }

  async #reloadValid(kind: Parameters<typeof validReload>[2], seed: number): Promise<void> {
    const { tree, expect, maxRedeliveries } = validReload(new Rng(seed), this.current, kind);
    const rec: ReloadRecord = { valid: true, kind, at: performance.now(), expect: `${expect.kind}:${expect.id}`, targetState: this.#system.status().find((x) => x.id === expect.id)?.state };
    this.stats.reloads.push(rec);
    try {
      const changes = await this.#system.applyTree(tree);
      rec.got = changes.map((c) => `${c.kind}:${c.id}`);
      this.current = tree;
      if (maxRedeliveries !== undefined) {
        const a = this.#tree.statics.find((s) => s.id === expect.id);
        if (a) a.maxRedeliveries = maxRedeliveries;
      }
    } catch (err) {
      rec.error = { code: codeOf(err), message: (err as Error).message };
      return;
    }
    if (kind === 'config') {
      const child = findChild(tree, expect.id);
      const id = 1_000_000_000 + this.stats.reloads.length;
      this.#task(this.#ask(expect.id, { op: 'config', id }, 'config-ask', 3000, undefined, (child?.config as { rev: number } | undefined)?.rev));
    }
  }

  async #reloadInvalid(kind: Parameters<typeof invalidReload>[2], seed: number): Promise<void> {
    const bad = invalidReload(new Rng(seed), this.current, kind);
    const rec: ReloadRecord = { valid: false, kind, at: performance.now() };
    this.stats.reloads.push(rec);
    const note = (err: unknown): void => void (rec.error ??= { code: codeOf(err), message: String((err as Error)?.message ?? err).split('\n').slice(0, 2).join(' ') });
    let before: string | undefined;
    try {
      before = staticTree(this.#system);
      await this.#system.applyTree(bad);
    } catch (err) {
      note(err);
    }
    try {
      rec.unchanged = before !== undefined && staticTree(this.#system) === before;
    } catch (err) {
      // Reading the tree itself failed: the record says why rather than looking like an accepted reload.
      note(err);
      rec.unchanged = false;
    }
  }

  #waitFor(pred: (e: SystemEvent) => boolean, ms: number): Promise<SystemEvent | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        resolve(null);
      }, ms);
      const w = (e: SystemEvent): void => {
        if (!pred(e)) return;
        clearTimeout(timer);
        this.#waiters.delete(w);
        resolve(e);
      };
      this.#waiters.add(w);
    });
  }

  /** Three poison messages in a row to the victim: its supervisor (intensity 2) must escalate, and the root restart it. */
  async #escalation(ids: number[]): Promise<void> {
    const rec: EscalationRecord = { sentAt: performance.now(), escalated: false, back: false };
    this.stats.escalation = rec;
    const escalated = this.#waitFor((e) => e.type === 'escalated' && e.supervisor === ESC_SUPERVISOR, 20_000);
    for (const id of ids) {
      bump(this.stats.faults, 'escalation-poison');
      this.#tell(VICTIM, { op: 'fault', id, fault: 'poison' }, 'fault', undefined, undefined, 'poison');
    }
    const e = await escalated;
    if (!e || e.type !== 'escalated') return;
    rec.escalated = true;
    rec.reason = e.reason;
    const back = await this.#waitFor((x) => (x.type === 'started' || x.type === 'restarted') && x.actor === VICTIM && x.at >= e.at, 20_000);
    rec.back = back !== null;
    const id = 1_100_000_000;
    await this.#ask(VICTIM, { op: 'count', id }, 'escalation-ask', 5000);
    rec.askOutcome = this.#ledger.asks.get(id)?.outcome;
  }

  /** One dynamic child's life, each step after the one before. */
  async #chain(c: DynChain): Promise<void> {
    this.#ledger.count('spawn');
    try {
      await this.#lock.run(() => this.#system.spawn(DYN_SUPERVISOR, { id: c.id }));
      this.stats.spawns.ok++;
    } catch (err) {
      failed(this.stats.spawns, codeOf(err), err);
      return;
    }
    for (const op of c.ops) {
      await this.until(op.t);
      this.dispatch(op);
    }
    await this.until(c.end.t);
    if (this.#system.state !== 'running') return;
    if (c.end.how === 'stop') await this.#treeOp(this.stats.dynStops, () => this.#system.stopActor(c.id));
    else this.#tell(c.id, { op: 'end', id: c.end.id }, 'end');
    for (const op of c.late) {
      await this.until(op.t);
      this.dispatch(op);
    }
  }
}

type DirectFault = NonNullable<Parameters<Ledger['expectDirect']>[0]['fault']>;
