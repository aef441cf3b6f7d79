import type { Logger } from 'pino';
import type { AlertEventInput } from '../events.js';
import { Retry } from '../resilience/retry.js';
import { Timeout } from '../resilience/timeout.js';
import { wrap } from '../resilience/policy.js';
import type { AlertTransition } from './evaluator.js';
import type { Notifier } from './rules.js';

/** Delay before a webhook's first retry, ms (exponential after it, with jitter). */
export const WEBHOOK_RETRY_DELAY_MS = 200;
/** Longest delay between two attempts of a webhook, ms. */
export const WEBHOOK_RETRY_MAX_DELAY_MS = 5000;

/** What a notifier is handed: the event as the system emits it, plus the rule's description. */
export type AlertNotice = AlertEventInput & { at: number; description?: string };

export interface NotifyDeps {
  log: Logger;
  /** Tell `msg` to actor `id` (the system's ref); may throw. */
  tell(id: string, msg: unknown): void;
  /** The fetch used by webhooks (default the global one). */
  fetch?: typeof fetch;
}

/** The event (and notice) of a transition. */
export function noticeOf(t: AlertTransition, at: number): AlertNotice {
  const a = t.alert;
  const base = { alert: a.name, severity: a.severity, value: a.value, since: a.activeSince ?? at, ...(a.actor !== undefined ? { actor: a.actor } : {}) };
  const event: AlertEventInput = t.kind === 'resolved' ? { type: 'alert-resolved', ...base } : { type: 'alert-firing', ...base, ...(t.kind === 'repeat' ? { repeat: true } : {}) };
  return { ...event, at, ...(a.rule.description !== undefined ? { description: a.rule.description } : {}) };
}

const fields = (n: AlertNotice): Record<string, unknown> => ({ component: 'alerts', alert: n.alert, severity: n.severity, actor: n.actor, value: n.value, since: n.since });

/** Log one notice: firing at error when critical, at warn otherwise; resolved at info. */
function logNotice(log: Logger, n: AlertNotice): void {
  if (n.type === 'alert-resolved') log.info(fields(n), `alert resolved: ${n.alert}`);
  else if (n.severity === 'critical') log.error(fields(n), `alert firing: ${n.alert}`);
  else log.warn(fields(n), `alert firing: ${n.alert}`);
}

/** POST the notice as JSON, each attempt under a time limit, retried with backoff; rejects once every attempt failed. */
async function postWebhook(n: Extract<Notifier, { kind: 'webhook' }>, notice: AlertNotice, doFetch: typeof fetch): Promise<void> {
  const policy = wrap(
    new Retry({ name: 'alert-webhook', maxAttempts: n.retries + 1, initialDelayMs: WEBHOOK_RETRY_DELAY_MS, maxDelayMs: WEBHOOK_RETRY_MAX_DELAY_MS }),
    new Timeout({ name: 'alert-webhook', timeoutMs: n.timeoutMs }),
  );
  const body = JSON.stringify(notice);
  await policy.execute(async ({ signal }) => {
    const res = await doFetch(n.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`${n.url} answered ${res.status}`);
  });
}

/**
 * Hand one notice to each of a rule's notifiers. Never rejects and never
 * throws: a failing webhook or a tell to a missing actor is logged, and the
 * other notifiers still run.
 */
export async function deliver(notifiers: readonly Notifier[], notice: AlertNotice, deps: NotifyDeps): Promise<void> {
  const doFetch = deps.fetch ?? fetch;
  await Promise.all(
    notifiers.map(async (n) => {
      try {
        if (n.kind === 'log') logNotice(deps.log, notice);
        else if (n.kind === 'actor') deps.tell(n.actor, notice);
        else await postWebhook(n, notice, doFetch);
      } catch (err) {
        const to = n.kind === 'webhook' ? n.url : n.kind === 'actor' ? `actor ${n.actor}` : 'log';
        deps.log.warn({ component: 'alerts', alert: notice.alert, notifier: n.kind, to, err: (err as Error).message, cause: ((err as Error).cause as Error | undefined)?.message }, 'alert notification failed');
      }
    }),
  );
}
