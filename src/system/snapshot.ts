import type { ActorHealth } from '../actor/define.js';
import type { CrashCause, OverflowPolicy } from '../errors.js';
import { F64_HANDLER_MS_SUM, F64_HEAP_USED_MB, F64_HEARTBEAT_AT, HANDLER_BUCKETS_MS, MSGS_FINISHED, MSGS_SENT, PUBLISHED, UNROUTED } from '../liveness/liveness.js';
import type { ActorCell } from './cell.js';
import { PoolCell, type PoolStats } from '../pool/cell.js';
import type { BreakerState } from '../transport/breaker.js';

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
  ringFullEvents: number;
  heartbeatMisses: number;
  deadLetters: number;
  /** Actors with a `breaker` only: its state, asks it refused fast, times it opened. */
  breaker?: { state: BreakerState; rejected: number; opened: number };
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
  /** Event-loop utilisation since the previous snapshot, percent. */
  cpuPct: number;
}

export interface ModuleHealth {
  moduleId: string;
  status: 'healthy' | 'degraded' | 'unhealthy';
  uptime: number;
  restarts: number;
  inboxDepth: number;
  metrics: { cpu: number; memory: number };
  state: string;
  details?: Record<string, unknown>;
}

export interface SystemHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  timestamp: number;
  modules: ModuleHealth[];
  aggregateMetrics: { totalModules: number; healthyModules: number };
}

export function actorMetrics(cell: ActorCell, deadLetters: number, dropped: Partial<Record<OverflowPolicy, number>> = {}): ActorMetrics {
  const live = cell.liveness;
  return {
    id: cell.id,
    parent: cell.parent,
    state: cell.state,
    incarnation: cell.incarnation,
    restarts: cell.restarts,
    crashesByCause: { ...cell.crashes },
    // Unsigned: the 32-bit counters read as 0..2^32-1 before they wrap.
    received: live.read(MSGS_FINISHED) >>> 0,
    sent: live.read(MSGS_SENT) >>> 0,
    inboxDepth: cell.inboxDepth(),
    ringFullEvents: cell.ringFullEvents(),
    heartbeatMisses: cell.crashes.heartbeat ?? 0,
    deadLetters,
    ...(cell instanceof PoolCell ? { pool: cell.stats() } : {}),
    ...(cell.breaker.enabled ? { breaker: { state: cell.breaker.state, rejected: cell.breaker.rejected, opened: cell.breaker.opened } } : {}),
    published: live.read(PUBLISHED) >>> 0,
    unrouted: live.read(UNROUTED) >>> 0,
    dropped: { ...dropped },
    mailboxCapacity: cell.spec.mailbox.capacity,
    handler: { boundsSeconds: HANDLER_BUCKETS_MS.map((ms) => ms / 1000), counts: live.handlerBuckets(), sumSeconds: live.f64[F64_HANDLER_MS_SUM]! / 1000 },
    uptimeMs: cell.uptimeMs(),
    heapUsedMb: Math.round(live.f64[F64_HEAP_USED_MB]! * 10) / 10,
    heartbeatAgeMs: heartbeatAge(cell),
    cpuPct: Math.round(cell.utilization() * 1000) / 10,
  };
}

function heartbeatAge(cell: ActorCell): number | null {
  const at = cell.liveness.f64[F64_HEARTBEAT_AT]!;
  if (cell.state !== 'running' || !cell.spec.heartbeat || at === 0) return null;
  return Math.max(0, Date.now() - at);
}

/**
 * Health of one actor: down (not running) is unhealthy; running defers to the
 * actor's own `health` hook when it has one.
 */
export async function moduleHealth(cell: ActorCell, timeoutMs: number): Promise<ModuleHealth> {
  const m = actorMetrics(cell, 0);
  let status: ModuleHealth['status'] = cell.state === 'running' ? 'healthy' : 'unhealthy';
  let details: Record<string, unknown> | undefined;
  if (cell.state === 'running') {
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
    metrics: { cpu: m.cpuPct, memory: m.heapUsedMb },
    state: cell.state,
  };
  if (details) out.details = details;
  return out;
}

/**
 * The system is unhealthy when it is stopping or a permanent actor is down,
 * degraded when any actor is not healthy, else healthy.
 */
export function aggregate(modules: ModuleHealth[], cells: ActorCell[], stopping: boolean): SystemHealth {
  const byId = new Map(cells.map((c) => [c.id, c]));
  const permanentDown = modules.some((m) => m.status === 'unhealthy' && byId.get(m.moduleId)?.spec.restart === 'permanent');
  const healthy = modules.filter((m) => m.status === 'healthy').length;
  const status = stopping || permanentDown ? 'unhealthy' : healthy === modules.length ? 'healthy' : 'degraded';
  return { status, timestamp: Date.now(), modules, aggregateMetrics: { totalModules: modules.length, healthyModules: healthy } };
}
