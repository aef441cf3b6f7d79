import { existsSync } from 'node:fs';
import type { CellServices } from '../cell/contract.js';
import type { HostBoot } from '../host/protocol.js';
import type { TracingBoot } from '../trace/tracing.js';
import type { Codec } from '../codec/envelope.js';
import type { DeadLetter, EventInput } from '../events.js';
import type { Watchdog } from '../health/watchdog.js';
import type { RecorderSetting } from '../liveness/recorder.js';
import type { Logger } from 'pino';
import type { Wiring } from '../transport/wiring.js';
import { retireRings } from '../cell/inbox-ops.js';
import type { MainEndpoint } from './endpoint.js';
import type { Topics } from './topics.js';
import type { SystemWatches } from './watches.js';

/** What the system is made of, as far as its cells are concerned. */
export interface ServiceParts {
  name: string;
  log: Logger;
  wiring: Wiring;
  codec: Codec;
  watchdog: Watchdog;
  endpoint: MainEndpoint;
  topics: Topics;
  watches: SystemWatches;
  emit(e: EventInput): void;
  deadLetter(letter: Omit<DeadLetter, 'at'>): void;
  opts: { baseDir: string; logLevel: string; logPretty: boolean; maxMessageBytes: number; spin: HostBoot['spin']; sendTimeoutMs: number; askTimeoutMs: number; senderSlots: number; flightRecorder: RecorderSetting; persistence: HostBoot['persistence']; tracing: TracingBoot | null };
}

/**
 * The host an actor's worker boots: the one-file bundle the build makes
 * (scripts/bundle-host.mjs; a worker then opens 3 files instead of ~45), or
 * the host as tsc compiled it when the bundle is not there.
 */
const BUNDLED_HOST = new URL('../../workers/actor-host.bundle.js', import.meta.url);
export const HOST_URL = existsSync(BUNDLED_HOST) ? BUNDLED_HOST : new URL('../../workers/actor-host.js', import.meta.url);

/** The services bag every cell is built with: the system's parts, seen through what a cell may do. */
export function cellServices(p: ServiceParts): CellServices {
  const svc: CellServices = {
    systemName: p.name,
    wiring: p.wiring,
    hostUrl: HOST_URL,
    poolWorkerUrl: new URL('../../workers/pool-worker.js', import.meta.url),
    replyFromMain: (env) => p.endpoint.replyFromMain(env),
    codec: p.codec,
    watchdog: p.watchdog,
    ...p.opts,
    emit: (e) => {
      p.emit(e);
      if (e.type === 'crashed') p.log.warn({ actor: e.actor, incarnation: e.incarnation, cause: e.cause, reason: e.reason, ...(e.stack ? { stack: e.stack } : {}) }, 'actor crashed');
      else if (e.type === 'restarted') p.log.info({ actor: e.actor, incarnation: e.incarnation }, 'actor restarted');
    },
    deadLetter: (letter) => p.deadLetter(letter),
    settleAsk: (asker, askId, err) => p.endpoint.settleAsk(asker, askId, err),
    subscriptions: () => p.topics.list(),
    subscribe: (actor, pattern) => {
      try {
        p.topics.table.subscribe(actor, pattern, `actor '${actor}' ctx.subscribe`);
      } catch (err) {
        p.log.error({ actor, pattern, err }, 'refused a subscription');
      }
    },
    unsubscribe: (actor, pattern) => void p.topics.table.unsubscribe(actor, pattern),
    watch: (actor, m) => p.watches.fromActor(actor, m),
    retireInbox: (actor, err) => {
      // Retired between incarnations (backing off, say): the one its watchers waited for never comes.
      p.watches.ended(actor, { type: 'terminated', id: actor, reason: 'stopped', detail: err.message });
      // A dynamic child that ended while being stopped is forgotten already: its inbox went with it.
      if (!p.wiring.switchboard.has(actor)) return;
      p.wiring.switchboard.setClosed(actor, true);
      retireRings(svc, actor, p.wiring.switchboard.describe(actor).rings, err);
    },
  };
  return svc;
}

/** The supervision tree's events that are logged as well: a restart's backoff, an escalation. */
export function logTreeEvent(log: Logger, e: EventInput): void {
  if (e.type === 'restarting') log.info({ actor: e.actor, delayMs: e.delayMs, strategy: e.strategy }, 'actor restarting');
  else if (e.type === 'escalated') log.error({ supervisor: e.supervisor, reason: e.reason }, 'supervisor escalated');
}
