import { isDeepStrictEqual } from 'node:util';
import type { AlertOp, AlertRule, RuleCondition, Severity } from './rules.js';

export type AlertStateName = 'inactive' | 'pending' | 'firing';

/** One actor's figures as a rule reads them (a slice of `system.metrics().actors[i]`). */
export type ActorFigures = { id: string; restarts: number } & Partial<Record<string, unknown>>;

/** What one evaluation looks at. */
export interface Readings {
  actors: readonly ActorFigures[];
  /** The system's health and each actor's; null when no rule asks for health. */
  health: { status: HealthLevel; modules: ReadonlyArray<{ moduleId: string; status: HealthLevel }> } | null;
}
type HealthLevel = 'healthy' | 'degraded' | 'unhealthy';

/** A rule with where it stands now, as `/api/alerts` shows it. */
export interface AlertView {
  name: string;
  severity: Severity;
  state: AlertStateName;
  /** When it entered this state, epoch ms (null: inactive since the rules were loaded). */
  since: number | null;
  /** When the condition began to hold (pending and firing), epoch ms. */
  activeSince: number | null;
  /** The figure last read (for a health rule: 0 healthy, 1 degraded, 2 unhealthy); null: nothing to read. */
  value: number | null;
  /** The actor the value is of, when it is one actor's. */
  actor?: string;
  rule: AlertRule;
}

/** A transition worth telling: fired, resolved, or still firing at its repeat interval. */
export interface AlertTransition {
  kind: 'firing' | 'resolved' | 'repeat';
  alert: AlertView;
}

interface Slot {
  view: AlertView;
  lastNotifiedAt: number;
}

const HEALTH_RANK: Record<HealthLevel, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

function compare(op: AlertOp, a: number, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '==':
      return a === b;
  }
}

/** Of several actors' values, the one to report: the one furthest past the threshold's side. */
const worse = (op: AlertOp, a: number, b: number): boolean => (op === '<' || op === '<=' ? a < b : a > b);

interface Outcome {
  holds: boolean;
  value: number | null;
  actor?: string;
}

/**
 * The alert state machine, with no timer and no clock of its own: each
 * `step(now, readings)` moves every rule (inactive → pending after the
 * condition holds, → firing once it held `for`, → inactive when it clears)
 * and answers the transitions to notify. Restart counts are kept per actor
 * over the longest `within` of the rules, so "restarts within 60s" is the
 * increase of the restart counter over the last 60 s of readings.
 */
export class AlertEvaluator {
  #slots = new Map<string, Slot>();
  /** Per actor: (time, restarts) readings, oldest first. */
  readonly #history = new Map<string, Array<{ t: number; restarts: number }>>();

  constructor(rules: readonly AlertRule[] = []) {
    this.setRules(rules, 0);
  }

  get rules(): AlertRule[] {
    return [...this.#slots.values()].map((s) => s.view.rule);
  }

  /** Every rule with its state. */
  views(): AlertView[] {
    return [...this.#slots.values()].map((s) => ({ ...s.view }));
  }

  /** Does any rule need the health report (an async read of every actor)? */
  needsHealth(): boolean {
    return this.rules.some((r) => r.when.kind === 'health');
  }

  /**
   * Replace the rules. A rule kept unchanged (same name, same definition)
   * keeps its state; a firing rule that was removed or changed resolves
   * (returned, to notify).
   */
  setRules(rules: readonly AlertRule[], now: number): AlertTransition[] {
    const out: AlertTransition[] = [];
    const next = new Map<string, Slot>();
    for (const rule of rules) {
      const old = this.#slots.get(rule.name);
      if (old && isDeepStrictEqual(old.view.rule, rule)) next.set(rule.name, old);
      else next.set(rule.name, { view: { name: rule.name, severity: rule.severity, state: 'inactive', since: null, activeSince: null, value: null, rule }, lastNotifiedAt: 0 });
    }
    for (const [name, old] of this.#slots) {
      if (old.view.state === 'firing' && next.get(name) !== old) out.push({ kind: 'resolved', alert: { ...old.view, state: 'inactive', since: now } });
    }
    this.#slots = next;
    return out;
  }

  /** Evaluate every rule at `now` (epoch ms) on `readings`. */
  step(now: number, readings: Readings): AlertTransition[] {
    this.#record(now, readings.actors);
    const out: AlertTransition[] = [];
    for (const slot of this.#slots.values()) {
      const v = slot.view;
      const o = this.#evaluate(v.rule.when, readings, now);
      v.value = o.value;
      if (o.actor !== undefined) v.actor = o.actor;
      else delete v.actor;
      if (!o.holds) {
        if (v.state === 'firing') out.push({ kind: 'resolved', alert: { ...v, state: 'inactive', since: now } });
        if (v.state !== 'inactive') Object.assign(v, { state: 'inactive', since: now, activeSince: null });
        continue;
      }
      if (v.state === 'inactive') Object.assign(v, { state: 'pending', since: now, activeSince: now });
      if (v.state === 'pending' && now - v.activeSince! >= v.rule.forMs) {
        Object.assign(v, { state: 'firing', since: now });
        slot.lastNotifiedAt = now;
        out.push({ kind: 'firing', alert: { ...v } });
      } else if (v.state === 'firing' && v.rule.repeatEveryMs !== null && now - slot.lastNotifiedAt >= v.rule.repeatEveryMs) {
        slot.lastNotifiedAt = now;
        out.push({ kind: 'repeat', alert: { ...v } });
      }
    }
    return out;
  }

  #record(now: number, actors: readonly ActorFigures[]): void {
    const keepMs = Math.max(0, ...this.rules.map((r) => (r.when.kind === 'restarts' ? r.when.withinMs : 0)));
    const seen = new Set<string>();
    for (const a of actors) {
      seen.add(a.id);
      const h = this.#history.get(a.id) ?? [];
      h.push({ t: now, restarts: a.restarts });
      // Keep one reading at or before the window's start: the baseline.
      while (h.length > 1 && h[1]!.t <= now - keepMs) h.shift();
      this.#history.set(a.id, h);
    }
    for (const id of this.#history.keys()) if (!seen.has(id)) this.#history.delete(id);
  }

  /** Restarts of `id` within the last `withinMs`: the counter now less its reading at the window's start (or the oldest kept). */
  #restartsWithin(id: string, withinMs: number, now: number): number | null {
    const h = this.#history.get(id);
    if (!h || h.length === 0) return null;
    let base = h[0]!;
    for (const r of h) if (r.t <= now - withinMs) base = r;
    return h[h.length - 1]!.restarts - base.restarts;
  }

  #evaluate(when: RuleCondition, readings: Readings, now: number): Outcome {
    const actors = when.actor === undefined ? readings.actors : readings.actors.filter((a) => a.id === when.actor);
    if (when.kind === 'health') {
      const h = readings.health;
      if (!h) return { holds: false, value: null };
      const status = when.actor === undefined ? h.status : h.modules.find((m) => m.moduleId === when.actor)?.status;
      if (status === undefined) return { holds: false, value: null };
      const rank = HEALTH_RANK[status];
      return { holds: rank >= HEALTH_RANK[when.level], value: rank, ...(when.actor !== undefined ? { actor: when.actor } : {}) };
    }
    const op: AlertOp = when.kind === 'restarts' ? '>' : when.op;
    const threshold = when.kind === 'restarts' ? when.over : when.value;
    let best: Outcome = { holds: false, value: null };
    for (const a of actors) {
      const value = when.kind === 'restarts' ? this.#restartsWithin(a.id, when.withinMs, now) : typeof a[when.metric] === 'number' ? (a[when.metric] as number) : null;
      if (value === null) continue;
      const holds = compare(op, value, threshold);
      if (best.value === null || (holds && !best.holds) || (holds === best.holds && worse(op, value, best.value))) best = { holds, value, actor: a.id };
    }
    return best;
  }
}
