import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import { InvalidOptionError, type CrashCause, type OverflowPolicy } from '../errors.js';
import type { CellState } from '../cell/contract.js';
import type { ActorMetrics } from '../system/snapshot.js';
import type { ActorSystem } from '../system/system.js';
import { resilienceRegistry } from '../resilience/metrics.js';
import { histogramSamples, oncePerScrape, ScrapedMetric, type Sample, type ScrapedKind } from './scraped.js';

/** Every metric name this registry defines starts with it (process metrics keep prom-client's names). */
export const METRIC_PREFIX = 'ringmaster_';

/** Config reloads so far, by outcome; both numbers only ever grow. */
export interface ReloadCounts {
  applied: number;
  rejected: number;
}

export interface MetricsOptions {
  /** Where config reloads are counted; without it `ringmaster_config_reloads_total` is not exposed. */
  reloads?: () => ReloadCounts;
}

/** What the registry reads from a system: its name (the `system` label) and its counters. */
export type MetricsSource = Pick<ActorSystem, 'name' | 'metrics'>;

// Every state and crash cause is exposed from the start (at 0), so a series
// exists before its first change and rate() sees the first increment.
const CELL_STATES = Object.keys({
  idle: 0,
  starting: 0,
  running: 0,
  'backing-off': 0,
  stopping: 0,
  stopped: 0,
  crashed: 0,
} satisfies Record<CellState, 0>);

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['backpressure', 'drop-newest', 'drop-oldest', 'fail'];
const ACTOR_CRASH_CAUSES = Object.keys({
  exception: 0,
  'unhandled-rejection': 0,
  exit: 0,
  heartbeat: 0,
  deadline: 0,
  'out-of-memory': 0,
  init: 0,
  module: 0,
} satisfies Record<Exclude<CrashCause, 'escalated'>, 0>) as CrashCause[];

const HANDLER_SECONDS = `${METRIC_PREFIX}handler_duration_seconds`;

/**
 * prom-client's default metrics that promtool's linter rejects: gauges whose
 * names end in `_total` (a suffix reserved for counters). The same numbers
 * stay available, split by type, in `nodejs_active_handles`,
 * `nodejs_active_requests` and `nodejs_active_resources`.
 */
const LINT_FAILING = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

let shared: Registry | null = null;

/**
 * The process metrics (CPU, memory, event-loop lag, GC, handles) of this
 * Node.js process, collected once per process. collectDefaultMetrics starts
 * a GC observer and an event-loop delay monitor that prom-client cannot
 * stop, so one collector is shared by every system's registry instead of
 * one per registry; the metric objects are registered in each registry,
 * which adds its own default labels when it serialises them.
 */
function processMetrics(): Metric[] {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
    for (const name of LINT_FAILING) shared.removeSingleMetric(name);
  }
  // getMetricsAsArray is typed as plain objects, but it holds the Gauge/Counter/Histogram instances.
  return shared.getMetricsAsArray() as unknown as Metric[];
}

/**
 * The system's registry also exposes the resilience policies of the main
 * thread (`resilienceRegistry`). Policies may be made after the registry, so
 * their metrics are picked up at each scrape; registered here, they are
 * serialised with this registry's default labels (`system`).
 */
class SystemRegistry extends Registry {
  override async metrics(): Promise<string> {
    for (const m of resilienceRegistry.getMetricsAsArray() as unknown as Metric[]) {
      if (!this.getSingleMetric((m as unknown as { name: string }).name)) this.registerMetric(m);
    }
    return super.metrics();
  }
}

/**
 * A prom-client Registry exposing one actor system. Nothing is counted per
 * message: each scrape reads `system.metrics()` once (the counters the
 * system and its workers keep in shared memory) and every metric is built
 * from that snapshot. The counters outlive restarts, so counters here never
 * go backwards while the system runs.
 */
export function createMetricsRegistry(system: MetricsSource, options: MetricsOptions = {}): Registry {
  if (options.reloads !== undefined && typeof options.reloads !== 'function') throw new InvalidOptionError('reloads', 'must be a function returning { applied, rejected }');
  const registry = new SystemRegistry();
  registry.setDefaultLabels({ system: system.name });
  const snapshot = oncePerScrape(() => system.metrics());
  const define = (name: string, help: string, type: ScrapedKind, read: () => Sample[]): void =>
    new ScrapedMetric(`${METRIC_PREFIX}${name}`, help, type, read).registerIn(registry);
  const perActor = (name: string, help: string, type: ScrapedKind, pick: (a: ActorMetrics) => number): void =>
    define(name, help, type, () => snapshot().actors.map((a) => ({ labels: { actor: a.id }, value: pick(a) })));

  perActor('messages_received_total', 'Messages an actor finished handling, over all its incarnations.', 'counter', (a) => a.received);
  perActor('messages_sent_total', 'Messages an actor sent (tells, asks and replies), over all its incarnations.', 'counter', (a) => a.sent);
  define('handler_duration_seconds', 'Time an actor spent in its receive handler per message.', 'histogram', () =>
    snapshot().actors.flatMap((a) => histogramSamples(HANDLER_SECONDS, { actor: a.id }, a.handler.boundsSeconds, a.handler.counts, a.handler.sumSeconds)),
  );
  perActor('inbox_depth', 'Messages waiting in an actor’s inbox.', 'gauge', (a) => a.inboxDepth);
  perActor(
    'event_loop_utilization_ratio',
    'Share of the last window (at least 1 s) an actor’s event loop was busy, 0..1; a pool actor: the share of its pool’s capacity in use.',
    'gauge',
    (a) => a.eventLoopUtilization,
  );
  perActor('sender_slots_in_use', 'Sender slots of an actor’s inbox in use: live senders, and departed ones whose last messages are unread.', 'gauge', (a) => a.senderSlotsInUse);
  perActor('ring_full_events_total', 'Times a sender found a ring into this actor full.', 'counter', (a) => a.ringFullEvents);
  perActor('restarts_total', 'Restarts of an actor for any reason: after a crash, a normal exit of a permanent actor, or an operator restart.', 'counter', (a) => a.restarts);
  define('crashes_total', 'Incarnations of an actor that ended abnormally, by cause.', 'counter', () =>
    snapshot().actors.flatMap((a) => ACTOR_CRASH_CAUSES.map((cause) => ({ labels: { actor: a.id, cause }, value: a.crashesByCause[cause] ?? 0 }))),
  );
  perActor('heartbeat_misses_total', 'Incarnations of an actor terminated because its event loop missed its heartbeats.', 'counter', (a) => a.heartbeatMisses);
  define('mailbox_dropped_total', 'Messages a full mailbox dropped or refused, by overflow policy (each is also a dead letter).', 'counter', () =>
    snapshot().actors.flatMap((a) => OVERFLOW_POLICIES.map((policy) => ({ labels: { actor: a.id, policy }, value: a.dropped[policy] ?? 0 }))),
  );
  define('topic_publishes_total', 'Publishes by publisher: routed reached at least one subscriber, unrouted reached none.', 'counter', () => {
    const s = snapshot();
    const rows = [...s.actors.map((a) => ({ id: a.id, published: a.published, unrouted: a.unrouted })), { id: '$system', ...s.topics }];
    return rows.flatMap((r) => [
      { labels: { publisher: r.id, result: 'routed' }, value: r.published },
      { labels: { publisher: r.id, result: 'unrouted' }, value: r.unrouted },
    ]);
  });
  define('topic_subscriptions', 'Topic subscriptions in the system (pattern and subscriber pairs).', 'gauge', () => [{ labels: {}, value: snapshot().topics.subscriptions }]);
  const perPool = (name: string, help: string, type: ScrapedKind, pick: (p: NonNullable<ActorMetrics['pool']>) => number): void =>
    define(name, help, type, () => snapshot().actors.flatMap((a) => (a.pool ? [{ labels: { actor: a.id }, value: pick(a.pool) }] : [])));
  perPool('pool_threads', 'Threads of a pool actor now.', 'gauge', (p) => p.threads);
  perPool('pool_queue_depth', 'Tasks of a pool actor waiting for a thread.', 'gauge', (p) => p.queueSize);
  perPool('pool_utilization_ratio', "Share of a pool actor's capacity used since its pool started (0..1).", 'gauge', (p) => p.utilization);
  perPool('pool_tasks_failed_total', "Tasks of a pool actor whose handler threw (answered with the error; not crashes).", 'counter', (p) => p.failed);
  const perBreaker = (name: string, help: string, type: ScrapedKind, pick: (b: NonNullable<ActorMetrics['breaker']>) => number): void =>
    define(name, help, type, () => snapshot().actors.flatMap((a) => (a.breaker ? [{ labels: { actor: a.id }, value: pick(a.breaker) }] : [])));
  perBreaker('actor_breaker_open', "1 while an actor's ask breaker is open or half-open, 0 when closed.", 'gauge', (b) => (b.state === 'closed' ? 0 : 1));
  perBreaker('actor_breaker_rejected_total', "Asks to an actor refused fast by its breaker (CircuitOpenError), from every caller.", 'counter', (b) => b.rejected);
  perBreaker('actor_breaker_opened_total', "Times an actor's ask breaker opened.", 'counter', (b) => b.opened);
  perActor('actor_dead_letters_total', 'Messages addressed to an actor that became dead letters.', 'counter', (a) => a.deadLetters);

  define('actors', 'Actors of the system by lifecycle state.', 'gauge', () => {
    const byState = snapshot().actorsByState;
    const states = new Set([...CELL_STATES, ...Object.keys(byState)]);
    return [...states].map((state) => ({ labels: { state }, value: byState[state] ?? 0 }));
  });
  define('escalations_total', 'Supervisors that exceeded their restart intensity and failed.', 'counter', () => [{ labels: {}, value: snapshot().escalations }]);
  define('dead_letters_total', 'Messages nobody could take: unknown receiver, stopped actor, poison, or a ring full past the send timeout.', 'counter', () => [
    { labels: {}, value: snapshot().deadLetters },
  ]);
  const reloads = options.reloads;
  if (reloads) {
    define('config_reloads_total', 'Configuration reloads by result (applied or rejected).', 'counter', () => {
      const r = reloads();
      return [
        { labels: { result: 'applied' }, value: r.applied },
        { labels: { result: 'rejected' }, value: r.rejected },
      ];
    });
  }

  for (const metric of processMetrics()) registry.registerMetric(metric);
  return registry;
}
