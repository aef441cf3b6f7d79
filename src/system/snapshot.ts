import type { SpinStats } from '../transport/parking.js';
import type { ActorHealth } from '../actor/define.js';
import type { CrashCause, OverflowPolicy } from '../errors.js';
import { F64_HANDLER_MS_SUM, F64_HEAP_USED_MB, F64_HEARTBEAT_AT, HANDLER_BUCKETS_MS, MSGS_FINISHED, MSGS_SENT, PUBLISHED, UNROUTED } from '../liveness/liveness.js';
import type { CellState, ChildCell, PoolStats, StandbyState } from '../cell/contract.js';
import type { CrashRecord } from '../cell/record.js';
import { Supervisor } from '../supervisor/runtime.js';
import type { ActorBreakerState } from '../transport/breaker.js';

/** One actor's counters, read from shared memory and the cell (no worker is asked). */
export interface ActorMetrics {
  id: string;
  parent: string;
  state: string;
  incarnation: number;
  restarts: number;
  /** Crashes over the actor's life by cause (each restart after a crash has one). */
  crashesByCause: Partial<Record<CrashCause, number>>;
  /** Messages handled (all incarnations). */
  received: number;
  /** Messages sent: tells, asks and replies. */
  sent: number;
  inboxDepth: number;
  /** Sender slots of the inbox in use: live senders, and departed ones whose last messages are unread. */
  senderSlotsInUse: number;
  ringFullEvents: number;
  heartbeatMisses: number;
  deadLetters: number;
  /** Actors with a `breaker` only: its state, asks it refused fast, times it opened. */
  breaker?: { state: ActorBreakerState; rejected: number; opened: number };
  /** Pool actors only: the pool's threads, queue, utilisation and task counts. */
  pool?: PoolStats;
  /** Publishes by this actor that reached at least one subscriber / reached none. */
  published: number;
  unrouted: number;
  /** Messages dropped by the mailbox's overflow policy, by policy. */
  dropped: Partial<Record<OverflowPolicy, number>>;
  /** Mailbox bound in messages (0 = only ring bytes). */
  mailboxCapacity: number;
  /** Handler durations: upper bounds in seconds, per-bucket counts (last = +Inf), total seconds. */
  handler: { boundsSeconds: readonly number[]; counts: number[]; sumSeconds: number };
  uptimeMs: number;
  heapUsedMb: number;
  /** ms since the running incarnation's last heartbeat; null when not running or heartbeats are off. */
  heartbeatAgeMs: number | null;
  /**
   * Event-loop utilisation, percent: the share of the last window of at
   * least a second the actor's event loop was busy (a pool actor: the share
   * of its pool's capacity in use). The same figure as `eventLoopUtilization`.
   */
  cpuPct: number;
  /** The same as `cpuPct`, as a ratio 0..1 (three decimals). */
  eventLoopUtilization: number;
}

export interface ModuleHealth {
  moduleId: string;
  status: 'healthy' | 'degraded' | 'unhealthy';
  uptime: number;
  restarts: number;
  inboxDepth: number;
  /** `cpu`: event-loop utilisation, percent (see ActorMetrics.cpuPct); `eventLoopUtilization` the same as a ratio; `memory`: V8 heap in use, MB. */
  metrics: { cpu: number; eventLoopUtilization: number; memory: number };
  state: string;
  details?: Record<string, unknown>;
}

export interface SystemHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  timestamp: number;
  modules: ModuleHealth[];
  aggregateMetrics: { totalModules: number; healthyModules: number };
}

export function actorMetrics(cell: ChildCell, deadLetters: number, dropped: Partial<Record<OverflowPolicy, number>> = {}): ActorMetrics {
  const rec = cell.record;
  const live = rec.liveness;
  const pool = cell.poolStats();
  return {
    id: cell.id,
    parent: rec.parent,
    state: rec.state,
    incarnation: rec.incarnation,
    restarts: rec.restarts,
    crashesByCause: { ...rec.crashes },
    // Unsigned: the 32-bit counters read as 0..2^32-1 before they wrap.
    received: live.read(MSGS_FINISHED) >>> 0,
    sent: live.read(MSGS_SENT) >>> 0,
    inboxDepth: rec.inboxDepth(),
    senderSlotsInUse: rec.senderSlotsInUse(),
    ringFullEvents: rec.ringFullEvents(),
    heartbeatMisses: rec.crashes.heartbeat ?? 0,
    deadLetters,
    ...(pool ? { pool } : {}),
    ...(rec.breaker.enabled ? { breaker: { state: rec.breaker.state, rejected: rec.breaker.rejected, opened: rec.breaker.opened } } : {}),
    published: live.read(PUBLISHED) >>> 0,
    unrouted: live.read(UNROUTED) >>> 0,
    dropped: { ...dropped },
    mailboxCapacity: rec.spec.mailbox.capacity,
    handler: { boundsSeconds: HANDLER_BUCKETS_MS.map((ms) => ms / 1000), counts: live.handlerBuckets(), sumSeconds: live.f64[F64_HANDLER_MS_SUM]! / 1000 },
    uptimeMs: cell.uptimeMs(),
    heapUsedMb: Math.round(live.f64[F64_HEAP_USED_MB]! * 10) / 10,
    heartbeatAgeMs: heartbeatAge(cell),
    ...utilization(cell.utilization()),
  };
}

const utilization = (u: number): { cpuPct: number; eventLoopUtilization: number } => ({ cpuPct: Math.round(u * 1000) / 10, eventLoopUtilization: Math.round(u * 1000) / 1000 });

function heartbeatAge(cell: ChildCell): number | null {
  const rec = cell.record;
  const at = rec.liveness.f64[F64_HEARTBEAT_AT]!;
  if (rec.state !== 'running' || !rec.spec.heartbeat || at === 0) return null;
  return Math.max(0, Date.now() - at);
}

/**
 * Health of one actor: down (not running) is unhealthy; running defers to the
 * actor's own `health` hook when it has one.
 */
export async function moduleHealth(cell: ChildCell, timeoutMs: number): Promise<ModuleHealth> {
  const m = actorMetrics(cell, 0);
  const state = cell.record.state;
  let status: ModuleHealth['status'] = state === 'running' ? 'healthy' : 'unhealthy';
  let details: Record<string, unknown> | undefined;
  if (state === 'running') {
    try {
      const h: ActorHealth | null = await cell.health(timeoutMs);
      if (h) {
        status = h.status;
        details = h.details;
      }
    } catch (err) {
      status = 'degraded';
      details = { error: (err as Error).message };
    }
  }
  const out: ModuleHealth = {
    moduleId: cell.id,
    status,
    uptime: m.uptimeMs,
    restarts: m.restarts,
    inboxDepth: m.inboxDepth,
    metrics: { cpu: m.cpuPct, eventLoopUtilization: m.eventLoopUtilization, memory: m.heapUsedMb },
    state,
  };
  if (details) out.details = details;
  return out;
}

/**
 * The system is unhealthy when it is stopping or a permanent actor is down,
 * degraded when any actor is not healthy, else healthy.
 */
export function aggregate(modules: ModuleHealth[], cells: ChildCell[], stopping: boolean): SystemHealth {
  const byId = new Map(cells.map((c) => [c.id, c]));
  const permanentDown = modules.some((m) => m.status === 'unhealthy' && byId.get(m.moduleId)?.restart === 'permanent');
  const healthy = modules.filter((m) => m.status === 'healthy').length;
  const status = stopping || permanentDown ? 'unhealthy' : healthy === modules.length ? 'healthy' : 'degraded';
  return { status, timestamp: Date.now(), modules, aggregateMetrics: { totalModules: modules.length, healthyModules: healthy } };
}

/** One node of the running tree, as `status()` lists it. */
export interface ActorStatus {
  id: string;
  parent: string | null;
  kind: 'actor' | 'supervisor';
  state: CellState | 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  incarnation: number;
  restarts: number;
  inboxDepth: number;
  handled: number;
  /** Supervisors only: the strategy, and the restart intensity (`intensity` restarts per `periodMs`) with what is left of it now. */
  strategy?: string;
  restartBudgetLeft?: number;
  intensity?: number;
  periodMs?: number;
  /** Actors only: the spare worker of a `standby: true` child. */
  standby?: StandbyState;
  /** Actors only, once one has crashed: the latest crash. It concerns the current incarnation when `incarnation` matches. */
  lastCrash?: CrashRecord;
  /** Actors with a `breaker`: its state as callers see it. */
  breaker?: ActorBreakerState;
  /** Pool actors: threads, queue and task counts. */
  pool?: PoolStats;
}

/** Every node of the tree under `root`, depth first in start order. */
export function treeStatus(root: Supervisor | null, cells: ReadonlyMap<string, ChildCell>, parentOf: (id: string) => string | null): ActorStatus[] {
  const out: ActorStatus[] = [];
  const visit = (node: Supervisor): void => {
    out.push({
      id: node.id,
      parent: parentOf(node.id),
      kind: 'supervisor',
      state: node.state,
      incarnation: 0,
      restarts: 0,
      inboxDepth: 0,
      handled: 0,
      strategy: node.spec.strategy,
      restartBudgetLeft: node.remainingRestarts(),
      intensity: node.spec.intensity,
      periodMs: node.spec.periodMs,
    });
    for (const c of node.children) {
      if (c instanceof Supervisor) {
        visit(c);
        continue;
      }
      const cell = cells.get(c.id);
      if (!cell) continue;
      const rec = cell.record;
      const pool = cell.poolStats();
      out.push({
        id: cell.id,
        parent: node.id,
        kind: 'actor',
        state: rec.state,
        incarnation: rec.incarnation,
        restarts: rec.restarts,
        inboxDepth: rec.inboxDepth(),
        handled: rec.handled(),
        standby: cell.standbyState(),
        ...(rec.lastCrash ? { lastCrash: { ...rec.lastCrash } } : {}),
        ...(rec.breaker.enabled ? { breaker: rec.breaker.state } : {}),
        ...(pool ? { pool } : {}),
      });
    }
  };
  if (root) visit(root);
  return out;
}

/** What `system.metrics()` answers: counters of every actor and of the system, read without asking any worker. */
export interface SystemMetrics {
  actors: ActorMetrics[];
  actorsByState: Record<string, number>;
  escalations: number;
  deadLetters: number;
  /** The main thread's own publishes, and how many subscriptions the system has. */
  topics: { published: number; unrouted: number; subscriptions: number };
  /**
   * The main thread's own inbox: sender slots in use (every actor that
   * answered it and is still known), and how its waits for the replies of
   * its asks went (see transport.spin in docs/data-plane.md).
   */
  systemInbox: { senderSlotsInUse: number; spin: SpinStats };
}

/** The counters of every actor and of the system (ActorSystem.metrics), read without asking any worker. */
export function systemMetrics(
  cells: Iterable<ChildCell>,
  dl: { countTo(id: string): number; droppedTo(id: string): Partial<Record<OverflowPolicy, number>>; count: number },
  escalations: number,
  topics: { published: number; unrouted: number; subscriptions: number },
  systemInbox: SystemMetrics['systemInbox'],
): SystemMetrics {
  const actors = [...cells].map((c) => actorMetrics(c, dl.countTo(c.id), dl.droppedTo(c.id)));
  const actorsByState: Record<string, number> = {};
  for (const a of actors) actorsByState[a.state] = (actorsByState[a.state] ?? 0) + 1;
  return { actors, actorsByState, escalations, deadLetters: dl.count, topics, systemInbox };
}
