import { InvalidOptionError } from '../errors.js';
import type { ActorSystem } from '../system/system.js';
import { AlertEvaluator, type AlertTransition, type AlertView, type Readings } from './evaluator.js';
import { deliver, noticeOf } from './notify.js';
import { DEFAULT_ALERT_INTERVAL_MS, parseAlertRules, type AlertRule, type Notifier } from './rules.js';

/** What the alert manager uses of a system (an ActorSystem has it all). */
export type AlertHost = Pick<ActorSystem, 'log' | 'metrics' | 'health' | 'ref' | 'onShutdown' | 'reportAlert'>;

export interface AlertManagerOptions {
  /** The rules, as a config file's `alerts:` list holds them (checked; InvalidOptionError names the rule and field). */
  rules?: unknown;
  /** How often the rules are evaluated, ms (default 1000). */
  intervalMs?: number;
  /** The time, epoch ms (default Date.now); tests pass a fake one. */
  clock?: () => number;
  /** Evaluate on a timer (default true); false: only when evaluate() is called. */
  timer?: boolean;
  /** The fetch webhooks use (default the global one). */
  fetch?: typeof fetch;
  /** How long an actor's health hook may take when a health rule reads it, ms (default 1000). */
  healthTimeoutMs?: number;
}

/** A notifier as `/api/alerts` shows it: a webhook by its origin and path only (a token in its query stays private). */
export type NotifierView = 'log' | { webhook: string } | { actor: string };
export type AlertRuleView = Omit<AlertRule, 'notify'> & { notify: NotifierView[] };
/** One rule and its state, as `GET /api/alerts` and `ringmaster alerts` show it. */
export type AlertStatus = Omit<AlertView, 'rule'> & { rule: AlertRuleView };

function notifierView(n: Notifier): NotifierView {
  if (n.kind === 'log') return 'log';
  if (n.kind === 'actor') return { actor: n.actor };
  const u = new URL(n.url);
  return { webhook: `${u.protocol}//${u.host}${u.pathname}` };
}

/**
 * Alert rules over a running system, on the main thread: every `intervalMs`
 * it reads `system.metrics()` (and `system.health()` when a rule asks for
 * health), moves each rule through inactive → pending → firing → inactive,
 * puts `alert-firing` / `alert-resolved` on the system's event stream and
 * hands each transition to the rule's notifiers. Stops with the system.
 */
export class AlertManager {
  readonly #system: AlertHost;
  readonly #evaluator = new AlertEvaluator();
  readonly #clock: () => number;
  readonly #intervalMs: number;
  readonly #fetch: typeof fetch | undefined;
  readonly #healthTimeoutMs: number;
  readonly #pending = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<AlertTransition[]> | null = null;
  #closed = false;
  #removeShutdown: (() => void) | null = null;

  /** Start evaluating `options.rules` over `system` until it stops (or close()). */
  static attach(system: AlertHost, options: AlertManagerOptions = {}): AlertManager {
    return new AlertManager(system, options);
  }

  constructor(system: AlertHost, options: AlertManagerOptions = {}) {
    const intervalMs = options.intervalMs ?? DEFAULT_ALERT_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new InvalidOptionError('alerts.intervalMs', `must be a number of ms, at least 10, got ${String(intervalMs)}`);
    this.#system = system;
    this.#intervalMs = intervalMs;
    this.#clock = options.clock ?? Date.now;
    this.#fetch = options.fetch;
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 1000;
    this.#evaluator.setRules(parseAlertRules(options.rules), this.#clock());
    if (options.timer !== false) {
      this.#timer = setInterval(() => void this.evaluate().catch((err: unknown) => system.log.error({ component: 'alerts', err }, 'alert evaluation failed')), intervalMs);
      this.#timer.unref();
    }
    this.#removeShutdown = system.onShutdown('before-actors', () => this.close());
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Every rule with its state, in the order the rules were given. */
  list(): AlertStatus[] {
    return this.#evaluator.views().map((v) => ({ ...v, rule: { ...v.rule, notify: v.rule.notify.map(notifierView) } }));
  }

  /** Replace the rules (hot reload); a firing rule that was removed or changed resolves. Invalid rules change nothing (InvalidOptionError). */
  setRules(raw: unknown): void {
    const rules = parseAlertRules(raw);
    this.#announce(this.#evaluator.setRules(rules, this.#clock()));
  }

  /** Evaluate every rule once now (the timer calls this); one evaluation at a time. Answers the transitions. */
  evaluate(): Promise<AlertTransition[]> {
    if (this.#closed) return Promise.resolve([]);
    this.#running ??= this.#evaluate().finally(() => (this.#running = null));
    return this.#running;
  }

  /** Settles once every notification under way has finished (webhooks included). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Stop the timer and wait for notifications under way. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
    await this.settled();
    this.#removeShutdown?.();
    this.#removeShutdown = null;
  }

  async #evaluate(): Promise<AlertTransition[]> {
    const actors = this.#system.metrics().actors;
    let health: Readings['health'] = null;
    if (this.#evaluator.needsHealth()) health = await this.#system.health(this.#healthTimeoutMs);
    if (this.#closed) return [];
    const transitions = this.#evaluator.step(this.#clock(), { actors: actors as unknown as Readings['actors'], health });
    this.#announce(transitions);
    return transitions;
  }

  #announce(transitions: AlertTransition[]): void {
    const now = this.#clock();
    for (const t of transitions) {
      const { description: _d, at: _at, ...event } = noticeOf(t, now);
      if (t.kind !== 'repeat') this.#system.reportAlert(event);
      const p = deliver(t.alert.rule.notify, noticeOf(t, now), {
        log: this.#system.log,
        tell: (id, msg) => this.#system.ref(id).tell(msg),
        ...(this.#fetch ? { fetch: this.#fetch } : {}),
      });
      this.#pending.add(p);
      void p.finally(() => this.#pending.delete(p));
    }
  }
}
