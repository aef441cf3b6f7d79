/**
 * The desk node of `npm run start:cluster`: the node that hosts the ledger
 * and the feed. It prints the status every 2 s (asking the portfolio, which
 * may be on another node, for its equity: an ask to a node that is killed
 * settles with NodeDownError within the membership bound), and at the end
 * drains the pipeline across the nodes, collects every node's dead-lettered
 * orders and reconciles them with the ledger: orders sent = filled +
 * rejected + dead-lettered, across all nodes.
 */
import type { ActorSystem, DeadLetter } from '../../src/index.js';
import { CONTROL, DONE, type Control, type Done } from './cluster-plan.js';
import type { FeedStats } from './feed.js';
import type { LedgerCounts } from './ledger.js';
import type { PortfolioSnapshot } from './portfolio.js';
import { ledgerIds } from './run.js';
import type { Order } from './shared.js';

const isOrder = (d: DeadLetter): boolean => (d.payload as Order | null)?.type === 'order';

/** The ids of the orders that died as dead letters on this node. */
export const deadOrders = (system: ActorSystem): string[] => [...new Set(system.deadLetters().filter(isOrder).map((d) => (d.payload as Order).id))];

const counts = (system: ActorSystem): Promise<LedgerCounts> => system.ref('ledger').ask<LedgerCounts>({ type: 'counts' }, { timeout: 2000 });

export class Desk {
  readonly #system: ActorSystem;
  readonly #say: (line: string) => void;
  readonly #done = new Map<number, Done[]>();
  readonly #waiters = new Set<() => void>();
  /** Nodes that went down without leaving (killed, or cut off) during the run. */
  readonly lostNodes = new Set<string>();
  #seq = 0;
  #status: NodeJS.Timeout | null = null;
  #portfolioAsk: Promise<unknown> | null = null;

  constructor(system: ActorSystem, say: (line: string) => void) {
    this.#system = system;
    this.#say = say;
    system.subscribe<Done>(DONE, (d) => {
      const list = this.#done.get(d.seq);
      if (list && !list.some((x) => x.node === d.node)) list.push(d);
      for (const w of this.#waiters) w();
    });
    system.on('node-down', (e) => {
      if (e.reason !== 'left') this.lostNodes.add(e.node);
    });
  }

  startStatus(): void {
    const t0 = Date.now();
    this.#status = setInterval(() => {
      void Promise.all([this.#system.ref('feed').ask<FeedStats>({ type: 'stats' }, { timeout: 1000 }), counts(this.#system)]).then(
        ([feed, c]) => {
          const up = this.#system.nodes().filter((n) => n.state === 'up').map((n) => n.node);
          const t = ((Date.now() - t0) / 1000).toFixed(0).padStart(3);
          this.#say(`[${t}s] ticks ${feed.ticks} · orders ${c.sent}: filled ${c.filled}, rejected ${c.rejected}, open ${c.open} · nodes up: ${up.join(', ')} · dead letters here ${this.#system.deadLetterCount}`);
        },
        () => {},
      );
      this.#askPortfolio();
    }, 2000);
  }

  /** One ask at a time to the portfolio, wherever it is, with a long timeout: a node killed under it settles it early. */
  #askPortfolio(): void {
    if (this.#portfolioAsk) return;
    const node = this.#system.ref('portfolio').node;
    const t0 = Date.now();
    this.#portfolioAsk = this.#system
      .ref('portfolio')
      .ask<PortfolioSnapshot>({ type: 'snapshot' }, { timeout: 30_000 })
      .catch((err: unknown) => {
        const e = err as Error & { code?: string };
        this.#say(`  ask to portfolio (on node ${node ?? '?'}) settled after ${Date.now() - t0} ms, not its 30 s timeout: ${e.name} ${e.code ?? ''} ${e.message}`);
      })
      .finally(() => (this.#portfolioAsk = null));
  }

  /** Publish `msg` to the other nodes and wait until each node that is up now has answered (or `ms` passed). */
  async control(msg: Control extends infer C ? (C extends unknown ? Omit<C, 'seq'> : never) : never, ms = 15_000): Promise<Done[]> {
    const seq = ++this.#seq;
    const want = this.#system.nodes().filter((n) => !n.self && n.state === 'up').map((n) => n.node);
    this.#done.set(seq, []);
    this.#system.publish(CONTROL, { ...msg, seq } as Control);
    const deadline = Date.now() + ms;
    const list = this.#done.get(seq)!;
    while (want.some((n) => !list.some((d) => d.node === n)) && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const w = (): void => {
          this.#waiters.delete(w);
          clearTimeout(timer);
          r();
        };
        const timer = setTimeout(w, 100);
        this.#waiters.add(w);
      });
    }
    this.#done.delete(seq);
    return list;
  }

  /** The end of a run: drain, stop the pipeline across the nodes, reconcile, print; true when it balances. */
  async finish(why: string): Promise<boolean> {
    if (this.#status) clearInterval(this.#status);
    const system = this.#system;
    this.#say(`\nstopping (${why}): the feed first, then the pipeline drains across the nodes`);
    await system.stopActor('feed');
    // Drained: no stage of any node holds mail and each runs (not restarting), and the ledger's figures stand still, three polls in a row.
    let last = '';
    let quiet = 0;
    for (const deadline = Date.now() + 10_000; quiet < 3 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      const [c, nodes] = await Promise.all([counts(system).catch(() => null), this.control({ cmd: 'depth' }, 2000)]);
      const idle = nodes.every((d) => d.depth === 0 && d.running === true);
      const now = c ? `${c.sent} ${c.filled} ${c.rejected} ${c.open}` : '';
      quiet = idle && now !== '' && now === last ? quiet + 1 : 0;
      last = now;
    }
    await system.stopActor('strategy');
    await this.control({ cmd: 'stop', ids: ['risk', 'execution'] });
    for (const id of ['risk', 'execution']) if (system.ref(id).node === system.nodes().find((n) => n.self)?.node) await system.stopActor(id);
    const answers = await this.control({ cmd: 'dead-letters' });
    const byNode = new Map<string, string[]>([[system.nodes().find((n) => n.self)!.node, deadOrders(system)], ...answers.map((d): [string, string[]] => [d.node, d.ids ?? []])]);
    const dead = new Set([...byNode.values()].flat());
    const deadOpen = (await ledgerIds(system, 'open')).filter((id) => dead.has(id));
    if (deadOpen.length > 0) await system.ref('ledger').ask({ type: 'dead-lettered', ids: deadOpen }, { timeout: 5000 });
    const c = await counts(system);
    const lost = c.open;
    const nodes = byNode.size;
    this.#say(`ledger: ${c.sent} orders sent (${c.runs > 1 ? `the ${c.runs} runs of its journal` : 'this run'})`);
    this.#say(`  filled         ${String(c.filled).padStart(6)}`);
    this.#say(`  rejected       ${String(c.rejected).padStart(6)}`);
    this.#say(`  dead-lettered  ${String(c.deadLettered).padStart(6)}  (this run, by node: ${[...byNode].map(([n, ids]) => `${n} ${ids.length}`).join(', ')})`);
    if (c.interrupted > 0) this.#say(`  interrupted    ${String(c.interrupted).padStart(6)}  (in flight when an earlier run was killed)`);
    this.#say(`  open           ${String(lost).padStart(6)}${lost > 0 ? `  (in flight on a node when it was killed: ${[...this.lostNodes].join(', ') || 'none went down'})` : ''}`);
    const sum = c.filled + c.rejected + c.deadLettered + c.interrupted;
    const ok = c.orphans === 0 && c.sent === sum + lost && (lost === 0 || this.lostNodes.size > 0);
    this.#say(
      `${ok ? 'balanced' : 'NOT balanced'} across ${nodes} nodes: ${c.sent} sent = ${c.filled} filled + ${c.rejected} rejected + ${c.deadLettered} dead-lettered` +
        `${c.interrupted > 0 ? ` + ${c.interrupted} interrupted` : ''}${lost > 0 ? ` + ${lost} lost with a killed node` : ''} ${ok ? '✓' : '✗'}`,
    );
    return ok;
  }
}
