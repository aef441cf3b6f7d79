/**
 * One soak run: draw the tree and the plan from the seed, start the system,
 * carry the plan out while sampling memory each round, wait for the traffic
 * to settle, stop, look for leftovers, and close the books.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, type CrashCause, type SystemEvent } from '../../src/index.js';
import type { SoakReport } from '../../test/fixtures/soak/soak-actor.js';
import { accountAsks, accountMessages, type AskAccount, type MessageAccount } from './soak-account.js';
import { judge, type Check } from './soak-checks.js';
import { Executor, type EscalationRecord, type ExecStats, type ReloadRecord } from './soak-exec.js';
import { Ledger, reasonShape } from './soak-ledger.js';
import { activeResources, fullGc, grown, memorySample, threadCount, type MemorySample } from './soak-leftovers.js';
import { isDyn, makePlan } from './soak-plan.js';
import { Rng } from './soak-rng.js';
import { ACK_SUBJECT, buildTree, VICTIM, type StaticActor } from './soak-tree.js';

export const SOAK_ACTOR = new URL('../../test/fixtures/soak/soak-actor.js', import.meta.url).href;

export interface SoakOptions {
  seed: number;
  /** Length of the chaos, s (the settling and the stop come on top). */
  seconds: number;
  /** Static actors. */
  actors: number;
  /** A round: the slice of the run after which memory is sampled, s. Default 5. */
  roundSeconds?: number;
  /** Scales every traffic and fault rate. Default 1. */
  rate?: number;
  /** The system's `senderSlots`: small enough that slots which are never reclaimed run out within the run. Default 64. */
  senderSlots?: number;
  /** Actors' and system's log level. Default 'silent' (dead letters alone would log thousands of lines). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Progress lines (one per round); default none. */
  progress?: (line: string) => void;
}

export interface RoundSample extends MemorySample {
  round: number;
  atS: number;
  threads: number;
  /** Actors system.status() lists (stopped dynamic children included, while the system keeps them). */
  actorsListed: number;
  /** Sender slots in use over every inbox, the system's included: each is a ring the main thread holds. */
  ringsInUse: number;
  subscriptions: number;
  deadLetters: number;
  crashes: number;
  reports: number;
}

export interface RestartAccount {
  crashesByCause: Partial<Record<CrashCause, number>>;
  /** Crashes by cause and reason (ids and numbers blanked), static actors and dynamic children apart. */
  crashReasons: Record<string, number>;
  restartedEvents: number;
  startedEvents: number;
  stoppedEvents: number;
  escalations: Array<{ supervisor: string; reason: string }>;
  /**
   * Heartbeat kills whose silence began before the incarnation reported ready:
   * a boot slower than misses × interval (a busy machine) counted against the
   * incarnation the moment it left the booting state.
   */
  killedRightAfterBoot: Array<{ actor: string; incarnation: number; upMs: number; silentMs: number }>;
  /** The same counters as system.metrics() has them just before the stop (over every actor the system still lists). */
  metrics: { crashesByCause: Record<string, number>; restarts: number; heartbeatMisses: number };
}

export interface Leftovers {
  threadsBefore: number;
  /** Right after system.stop() resolved (and one turn of the event loop). */
  threadsAfterStop: number;
  /** Active resources (process.getActiveResourcesInfo()) that were not there before the system started. */
  resourcesAfterStop: Record<string, number>;
  /** How long after that the extra threads and resources took to go (null: still there after LEFTOVER_WATCH_MS). */
  goneAfterMs: number | null;
  threadsAtEnd: number;
  resourcesAtEnd: Record<string, number>;
}

export interface SoakResult {
  seed: number;
  replay: string;
  seconds: number;
  actors: number;
  roundSeconds: number;
  rate: number;
  senderSlots: number;
  node: string;
  cpus: number;
  date: string;
  wallSeconds: number;
  tree: { supervisors: string[]; hubs: string[]; statics: StaticActor[] };
  plan: { ops: number; dynamicChildren: number; ids: number };
  sent: Record<string, number>;
  messages: MessageAccount;
  asks: AskAccount;
  faults: Pick<ExecStats, 'faults' | 'faultsOnDynamic' | 'operatorRestarts' | 'stopStarts' | 'spawns' | 'dynStops' | 'publishCountMismatch' | 'skipped'>;
  restarts: RestartAccount;
  reloads: ReloadRecord[];
  escalation: EscalationRecord | null;
  deadLetters: { events: number; systemCount: number; unattributed: Record<string, number>; lostReports: Record<string, number> };
  rounds: RoundSample[];
  gcForced: boolean;
  leftovers: Leftovers;
  /** Why the system stopped by itself during the run (an escalation that reached the root), or null. */
  stoppedBySelf: string | null;
  checks: Check[];
  ok: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bump = (r: Record<string, number>, k: string, n = 1): void => void (r[k] = (r[k] ?? 0) + n);
/** After the chaos: how long the run waits for every message and ask to settle, at most and without progress, ms. */
const DRAIN_LIMIT_MS = 30_000;
const DRAIN_IDLE_MS = 5000;
const PROBE_ID = 2_000_000_000;
/** Event times are whole ms and the watchdog reads on a tick: a silence this much longer than the uptime began before ready. */
const BOOT_SLACK_MS = 20;
/** How long after stop() the run keeps looking for the leftovers to go, ms. */
const LEFTOVER_WATCH_MS = 2000;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const roundSeconds = o.roundSeconds ?? 5;
  const rate = o.rate ?? 1;
  const senderSlots = o.senderSlots ?? 64;
  const say = o.progress ?? ((): void => {});
  const wall0 = performance.now();
  const rng = new Rng(o.seed);
  const markerDir = mkdtempSync(join(tmpdir(), 'ringmaster-soak-'));
  const tree = buildTree(rng, o.actors, SOAK_ACTOR, markerDir);
  const plan = makePlan(rng, tree, o.seconds * 1000, rate);
  const ledger = new Ledger();

  // One turn first: a caller's own timers set up right after this call returns its promise (a test
  // runner's timeout, say) belong to the baseline, not to the system's leftovers.
  await new Promise((r) => setImmediate(r));
  const gcForced = fullGc().forced;
  const threadsBefore = threadCount();
  const resourcesBefore = activeResources();

  const system = await ActorSystem.start({ name: 'soak', tree: tree.spec, log: { level: o.logLevel ?? 'silent' }, senderSlots });
  const restarts: RestartAccount = { crashesByCause: {}, crashReasons: {}, restartedEvents: 0, startedEvents: 0, stoppedEvents: 0, escalations: [], killedRightAfterBoot: [], metrics: { crashesByCause: {}, restarts: 0, heartbeatMisses: 0 } };
  let stopping = false;
  let stoppedBySelf: string | null = null;
  void system.whenStopped().then((reason) => {
    if (!stopping) stoppedBySelf = reason;
  });
  let exec: Executor | null = null;
  const readyAt = new Map<string, number>();
  const offEvents = system.on('*', (e: SystemEvent) => {
    exec?.onEvent(e);
    switch (e.type) {
      case 'crashed': {
        bump(restarts.crashesByCause, e.cause);
        const up = readyAt.get(`${e.actor}#${e.incarnation}`);
        const silent = Number(/no heartbeat for (\d+) ms/.exec(e.reason)?.[1] ?? NaN);
        if (e.cause === 'heartbeat' && up !== undefined && silent > e.at - up + BOOT_SLACK_MS) {
          restarts.killedRightAfterBoot.push({ actor: e.actor, incarnation: e.incarnation, upMs: e.at - up, silentMs: silent });
        }
        bump(restarts.crashReasons, `${isDyn(e.actor) ? 'dynamic' : 'static'} ${e.cause}: ${reasonShape(e.reason)}`);
        ledger.onEnded(e.actor, e.incarnation, true);
        return;
      }
      case 'stopped':
        restarts.stoppedEvents++;
        ledger.onEnded(e.actor, e.incarnation);
        return;
      case 'restarted':
        restarts.restartedEvents++;
        readyAt.set(`${e.actor}#${e.incarnation}`, e.at);
        return;
      case 'started':
        restarts.startedEvents++;
        readyAt.set(`${e.actor}#${e.incarnation}`, e.at);
        return;
      case 'escalated':
        restarts.escalations.push({ supervisor: e.supervisor, reason: e.reason });
        return;
      case 'dead-letter':
        ledger.onDeadLetter(e.letter);
        return;
      default:
        return;
    }
  });
  const offReports = system.subscribe(ACK_SUBJECT, (m) => ledger.onReport(m as SoakReport));
  let rounds: RoundSample[] | undefined;
  let leftovers: Leftovers;
  try {
    await probe(system, ledger, [...tree.statics.map((a) => a.id), VICTIM]);
    const t0 = performance.now();
    exec = new Executor(system, ledger, tree, t0);
    const R = Math.max(1, Math.floor(o.seconds / roundSeconds));
    const sampling = (async (): Promise<RoundSample[]> => {
      const out: RoundSample[] = [];
      for (let r = 1; r <= R; r++) {
        await exec!.until(r * roundSeconds * 1000);
        if (system.state !== 'running') break;
        // Every isolate collects first, not the main thread's alone: rings a static actor dropped stay
        // mapped until its own next collection, and when that comes is GC timing, not a leak.
        await collectEverywhere(system, tree.statics.map((a) => a.id), r);
        fullGc();
        const s: RoundSample = {
          round: r,
          atS: Math.round((performance.now() - t0) / 100) / 10,
          ...memorySample(),
          threads: threadCount(),
          actorsListed: system.status().filter((x) => x.kind !== 'supervisor').length,
          ringsInUse: ringsInUse(system),
          subscriptions: system.subscriptions().length,
          deadLetters: system.deadLetterCount,
          crashes: Object.values(restarts.crashesByCause).reduce((a, b) => a + (b ?? 0), 0),
          reports: ledger.reports,
        };
        out.push(s);
        say(`round ${r}/${R} (${s.atS} s): rss ${s.rssMb} MB, arrayBuffers ${s.arrayBuffersMb} MB, heap ${s.heapUsedMb} MB, threads ${s.threads}, actors listed ${s.actorsListed}, rings ${s.ringsInUse}, crashes ${s.crashes}, dead letters ${s.deadLetters}`);
      }
      return out;
    })();
    await exec.run(plan.ops);
    rounds = await sampling;
    say('chaos over; waiting for the traffic to settle');
    await exec.settled();
    await drain(ledger);
    const m = system.metrics();
    for (const a of m.actors) {
      for (const [k, n] of Object.entries(a.crashesByCause)) bump(restarts.metrics.crashesByCause, k, n ?? 0);
      restarts.metrics.restarts += a.restarts;
      restarts.metrics.heartbeatMisses += a.heartbeatMisses;
    }
  } finally {
    stopping = true;
    ledger.stopAt = performance.now();
    say('stopping the system');
    await system.stop();
    offEvents();
    offReports();
    await new Promise((r) => setImmediate(r));
    const threadsAfterStop = threadCount();
    const resourcesAfterStop = grown(resourcesBefore, activeResources());
    const stopped = performance.now();
    const clean = (): boolean => !(threadCount() > threadsBefore) && Object.keys(grown(resourcesBefore, activeResources())).length === 0;
    while (!clean() && performance.now() - stopped < LEFTOVER_WATCH_MS) await sleep(5);
    leftovers = {
      threadsBefore,
      threadsAfterStop,
      resourcesAfterStop,
      goneAfterMs: clean() ? Math.round(performance.now() - stopped) : null,
      threadsAtEnd: threadCount(),
      resourcesAtEnd: grown(resourcesBefore, activeResources()),
    };
    rmSync(markerDir, { recursive: true, force: true });
  }

  const messages = accountMessages(ledger);
  const asks = accountAsks(ledger);
  const st = exec.stats;
  const result: Omit<SoakResult, 'checks' | 'ok'> = {
    seed: o.seed,
    replay: `SOAK_SEED=${o.seed} SOAK_SECONDS=${o.seconds} SOAK_ACTORS=${o.actors}${rate !== 1 ? ` SOAK_RATE=${rate}` : ''}${senderSlots !== 64 ? ` SOAK_SENDER_SLOTS=${senderSlots}` : ''} npm run soak`,
    seconds: o.seconds,
    actors: o.actors,
    roundSeconds,
    rate,
    senderSlots,
    node: process.version,
    cpus: availableParallelism(),
    date: new Date().toISOString(),
    wallSeconds: Math.round((performance.now() - wall0) / 100) / 10,
    tree: { supervisors: tree.supervisors, hubs: tree.hubs, statics: tree.statics },
    plan: { ops: plan.ops.length, dynamicChildren: plan.chains, ids: plan.ids },
    sent: ledger.sentByKind,
    messages,
    asks,
    faults: { faults: st.faults, faultsOnDynamic: st.faultsOnDynamic, operatorRestarts: st.operatorRestarts, stopStarts: st.stopStarts, spawns: st.spawns, dynStops: st.dynStops, publishCountMismatch: st.publishCountMismatch.slice(0, 50), skipped: st.skipped },
    restarts,
    reloads: st.reloads,
    escalation: st.escalation,
    deadLetters: { events: ledger.letterCount, systemCount: system.deadLetterCount, unattributed: Object.fromEntries(ledger.unattributed), lostReports: Object.fromEntries(ledger.lostReports) },
    rounds: rounds ?? [],
    gcForced,
    leftovers: leftovers!,
    stoppedBySelf,
  };
  const checks = judge(result);
  return { ...result, checks, ok: checks.every((c) => c.ok) };
}

/** Every actor answers once and its delivery report arrives: the main thread's subscription has reached every thread. */
async function probe(system: ActorSystem, ledger: Ledger, ids: string[]): Promise<void> {
  const deadline = performance.now() + 10_000;
  await Promise.all(ids.map((id, i) => system.ref(id).ask({ op: 'count', id: PROBE_ID + i }, { timeout: 10_000 }).catch(() => {})));
  while (performance.now() < deadline && !ids.every((_, i) => ledger.deliveries.has(PROBE_ID + i))) await sleep(20);
}

const GC_ID = 2_100_000_000;

/** Ask every static actor to collect its garbage (best effort: one hung or down just does not). */
async function collectEverywhere(system: ActorSystem, ids: string[], round: number): Promise<void> {
  await Promise.all(ids.map((id, i) => system.ref(id).ask({ op: 'gc', id: GC_ID + round * 1000 + i }, { timeout: 2000 }).catch(() => {})));
}

function ringsInUse(system: ActorSystem): number {
  const m = system.metrics();
  return m.systemInbox.senderSlotsInUse + m.actors.reduce((n, a) => n + a.senderSlotsInUse, 0);
}

/** Wait until every message is delivered or dead-lettered and every ask settled, or nothing moves for a while. */
async function drain(ledger: Ledger): Promise<void> {
  // No ask may be cut short by the stop: every one has had its timeout (and a little) first.
  let askDeadline = 0;
  for (const a of ledger.asks.values()) askDeadline = Math.max(askDeadline, a.sentAt + a.timeout + 1000);
  const limit = Math.max(askDeadline, performance.now()) + DRAIN_LIMIT_MS;
  let last = -1;
  let since = performance.now();
  while (performance.now() < limit) {
    const open = ledger.open();
    const asksDue = performance.now() >= askDeadline;
    if (open === 0) return;
    if (open !== last) {
      last = open;
      since = performance.now();
    } else if (asksDue && performance.now() - since > DRAIN_IDLE_MS) return;
    await sleep(100);
  }
}
