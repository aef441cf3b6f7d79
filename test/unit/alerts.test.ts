import { expect } from 'chai';
import { parse } from 'yaml';
import { AlertEvaluator, type ActorFigures, type Readings } from '../../src/alerts/evaluator.js';
import { AlertManager, type AlertHost } from '../../src/alerts/manager.js';
import { deliver } from '../../src/alerts/notify.js';
import type { Logger } from 'pino';
import { toPrometheusRules, promDuration } from '../../src/alerts/prometheus.js';
import { checkAlertRules, parseAlertRules, parseDuration } from '../../src/alerts/rules.js';
import { parseConfig, ConfigError } from '../../src/config/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { AlertEventInput } from '../../src/events.js';

const readings = (actors: ActorFigures[], health: Readings['health'] = null): Readings => ({ actors, health });

describe('alerts: rules', () => {
  it('parses durations: 60s, 5m, 1h, 250ms and plain ms', () => {
    expect(parseDuration('60s')).to.equal(60_000);
    expect(parseDuration('5m')).to.equal(300_000);
    expect(parseDuration('1h')).to.equal(3_600_000);
    expect(parseDuration('250ms')).to.equal(250);
    expect(parseDuration(1500)).to.equal(1500);
    expect(parseDuration('1.5s')).to.equal(1500);
    for (const bad of ['5', 'soon', '-1s', -5, Number.NaN, null, '5 minutes']) expect(parseDuration(bad), String(bad)).to.equal(null);
  });

  it('fills in defaults: notify log, for 0, no repeat, webhook timeout and retries', () => {
    const [a, b] = parseAlertRules([
      { name: 'crashloop', when: { restarts: { actor: 'risk', over: 3, within: '60s' } }, severity: 'critical' },
      { name: 'deep', when: { metric: 'inboxDepth', actor: 'risk', op: '>', value: 100, for: '5s' }, severity: 'warning', notify: [{ webhook: 'http://127.0.0.1:9/x' }], repeatEvery: '1m' },
    ]);
    expect(a).to.deep.include({ forMs: 0, repeatEveryMs: null, notify: [{ kind: 'log' }] });
    expect(a!.when).to.deep.equal({ kind: 'restarts', actor: 'risk', over: 3, withinMs: 60_000 });
    expect(b).to.deep.include({ forMs: 5000, repeatEveryMs: 60_000 });
    expect(b!.notify).to.deep.equal([{ kind: 'webhook', url: 'http://127.0.0.1:9/x', timeoutMs: 5000, retries: 2 }]);
  });

  it('names the rule and the field in every problem', () => {
    const { problems } = checkAlertRules([
      { name: 'ok', when: { health: 'degraded' }, severity: 'info' },
      { name: 'bad-op', when: { metric: 'inboxDepth', op: '=>', value: 1 }, severity: 'info' },
      { name: 'bad-for', when: { metric: 'cpuPct', op: '>', value: 90, for: 'soon' }, severity: 'warning' },
      { name: 'two', when: { metric: 'cpuPct', health: 'degraded', op: '>', value: 1 }, severity: 'info' },
      { name: 'sev', when: { health: 'unhealthy' }, severity: 'loud', notify: [{ webhook: 'ftp://x' }] },
      { name: 'ok', when: { health: 'degraded' }, severity: 'info' },
      { when: { restarts: { over: 1, within: '1m' } }, severity: 'info', extra: 1 },
      { name: 'typo', when: { metric: 'inboxDept', op: '>', value: 1 }, severity: 'info', notify: ['log', { webhook: 'hooks.example/x' }] },
    ]);
    const text = problems.map((p) => `${p.path}: ${p.message}`);
    expect(text.find((t) => t.startsWith('[1].when'))).to.match(/rule 'bad-op'.*op/);
    expect(text.find((t) => t.startsWith('[2].when'))).to.match(/rule 'bad-for'.*for.*duration/);
    expect(text.find((t) => t.startsWith('[3].when'))).to.match(/rule 'two'.*exactly one of restarts, metric or health/);
    expect(text.find((t) => t.startsWith('[4].severity'))).to.match(/rule 'sev'/);
    expect(text.find((t) => t.startsWith('[4].notify'))).to.equal("[4].notify[0].webhook: rule 'sev': must be an http:// or https:// URL");
    expect(text.find((t) => t.startsWith('[7].when'))).to.match(/^\[7\]\.when: rule 'typo': metric: unknown metric "inboxDept" \(known: inboxDepth, cpuPct, /);
    expect(text.find((t) => t.startsWith('[7].notify'))).to.equal("[7].notify[1].webhook: rule 'typo': must be an http:// or https:// URL");
    expect(text.find((t) => t.startsWith('[5].name'))).to.match(/rule 'ok'.*earlier rule/);
    expect(text.find((t) => t.startsWith('[6].name'))).to.match(/rule #7/);
    expect(text.some((t) => t.startsWith('[6]') && /unknown field extra/.test(t))).to.equal(true);
    expect(() => parseAlertRules('nope')).to.throw(InvalidOptionError, /alerts: must be a list/);
  });

  it('a config file: alerts: checked with the rest, with lines', () => {
    const text = `name: t\ntree:\n  id: root\n  strategy: one_for_one\n  children: [{ id: a, module: ./a.js }]\nalerts:\n  - name: crashloop\n    when: { restarts: { actor: a, over: x, within: 1m } }\n    severity: critical\n`;
    try {
      parseConfig(text, 't.yaml', { env: {}, flags: {}, stdoutIsTty: false, checkModules: false });
      expect.fail('should be rejected');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const p = (err as ConfigError).problems.find((q) => q.path.startsWith('alerts[0]'));
      expect(p?.message).to.match(/rule 'crashloop'.*over/);
      expect(p?.line).to.equal(8);
    }
    const ok = parseConfig(text.replace('over: x', 'over: 3') + 'alertInterval: 250ms\n', 't.yaml', { env: {}, flags: {}, stdoutIsTty: false, checkModules: false });
    expect(ok.config.alerts).to.have.length(1);
    expect(ok.config.alertIntervalMs).to.equal(250);
  });

  it('a config file: a rule over an actor the tree does not have, or notifying one, is a problem at its line', () => {
    const quiet = { env: {}, flags: {}, stdoutIsTty: false, checkModules: false };
    const tree = (strategy: string, more = ''): string => `name: t\ntree:\n  id: root\n  strategy: ${strategy}\n  children: [{ id: a, module: ./a.js }, { id: sub, strategy: one_for_one, children: [{ id: b, module: ./b.js }] }]\n${more}`;
    const rules = [
      'alerts:',
      '  - name: typo',
      '    when: { metric: inboxDepth, actor: risc, op: ">", value: 1 }',
      '    severity: info',
      '  - name: loop',
      '    when: { restarts: { actor: sub, over: 1, within: 1m } }',
      '    severity: info',
      '    notify: [log, { actor: pager }]',
      '  - name: fine',
      '    when: { health: degraded, actor: b }',
      '    severity: info',
      '    notify: [{ actor: a }]',
      '',
    ].join('\n');
    const problemsOf = (text: string): string[] => {
      try {
        parseConfig(text, 't.yaml', quiet);
        return [];
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as ConfigError).problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
      }
    };
    expect(problemsOf(tree('one_for_one') + rules)).to.deep.equal([
      "8: alerts[0].when.actor: rule 'typo': watches actor 'risc', which the tree does not have (its actors: a, b)",
      "11: alerts[1].when.restarts.actor: rule 'loop': watches actor 'sub', which the tree does not have (its actors: a, b)",
      "13: alerts[1].notify[1].actor: rule 'loop': notifies actor 'pager', which the tree does not have (its actors: a, b)",
    ]);
    // Another node of a cluster may hold the notified actor; what a rule watches is this node's.
    expect(problemsOf(tree('one_for_one', 'cluster: { node: n1, servers: ["nats://127.0.0.1:4222"] }\n') + rules).map((p) => p.split(':')[1]!.trim())).to.deep.equal(['alerts[0].when.actor', 'alerts[1].when.restarts.actor']);
    // A bad webhook is found at its own line.
    const hook = 'alerts:\n  - name: w\n    when: { health: degraded }\n    severity: info\n    notify:\n      - log\n      - webhook: hooks.example/x\n';
    expect(problemsOf(tree('one_for_one') + hook)).to.deep.equal(["12: alerts[0].notify[1].webhook: rule 'w': must be an http:// or https:// URL"]);
    // A simple_one_for_one supervisor's children get their ids at run time.
    expect(problemsOf(`name: t\ntree:\n  id: root\n  strategy: simple_one_for_one\n  template: { module: ./w.js }\n  children: []\n${rules}`)).to.deep.equal([]);
  });
});

describe('alerts: the state machine', () => {
  it('inactive → pending → firing after `for` → resolved when the condition clears', () => {
    const ev = new AlertEvaluator(parseAlertRules([{ name: 'deep', when: { metric: 'inboxDepth', actor: 'a', op: '>', value: 10, for: '5s' }, severity: 'warning' }]));
    const at = (t: number, depth: number) => ev.step(t, readings([{ id: 'a', restarts: 0, inboxDepth: depth }]));
    expect(at(1000, 3)).to.deep.equal([]);
    expect(ev.views()[0]).to.include({ state: 'inactive', value: 3 });
    expect(at(2000, 20)).to.deep.equal([]);
    expect(ev.views()[0]).to.include({ state: 'pending', since: 2000, activeSince: 2000, value: 20, actor: 'a' });
    expect(at(6000, 25)).to.deep.equal([]);
    const fired = at(7000, 30);
    expect(fired.map((t) => t.kind)).to.deep.equal(['firing']);
    expect(fired[0]!.alert).to.include({ state: 'firing', since: 7000, activeSince: 2000, value: 30 });
    expect(at(8000, 40)).to.deep.equal([]); // notified once per firing
    const resolved = at(9000, 0);
    expect(resolved.map((t) => t.kind)).to.deep.equal(['resolved']);
    expect(ev.views()[0]).to.include({ state: 'inactive', since: 9000, activeSince: null });
  });

  it('a pending alert whose condition clears goes back to inactive without a notice', () => {
    const ev = new AlertEvaluator(parseAlertRules([{ name: 'hot', when: { metric: 'cpuPct', op: '>=', value: 90, for: '10s' }, severity: 'info' }]));
    ev.step(0, readings([{ id: 'a', restarts: 0, cpuPct: 95 }]));
    expect(ev.views()[0]!.state).to.equal('pending');
    expect(ev.step(5000, readings([{ id: 'a', restarts: 0, cpuPct: 10 }]))).to.deep.equal([]);
    expect(ev.views()[0]!.state).to.equal('inactive');
  });

  it('repeatEvery notifies again while it keeps firing, not more often', () => {
    const ev = new AlertEvaluator(parseAlertRules([{ name: 'dl', when: { metric: 'deadLetters', op: '>', value: 0 }, severity: 'critical', repeatEvery: '10s' }]));
    const kinds: string[] = [];
    for (let t = 0; t <= 25_000; t += 1000) kinds.push(...ev.step(t, readings([{ id: 'a', restarts: 0, deadLetters: 5 }])).map((x) => `${x.kind}@${t}`));
    expect(kinds).to.deep.equal(['firing@0', 'repeat@10000', 'repeat@20000']);
  });

  it('restarts within a window: fires on the increase, resolves once the window slides past it', () => {
    const ev = new AlertEvaluator(parseAlertRules([{ name: 'loop', when: { restarts: { actor: 'a', over: 2, within: '10s' } }, severity: 'critical' }]));
    const at = (t: number, restarts: number) => ev.step(t, readings([{ id: 'a', restarts }, { id: 'b', restarts: 50 }]));
    expect(at(0, 7)).to.deep.equal([]); // restarts before the manager looked do not count
    expect(at(1000, 8)).to.deep.equal([]);
    expect(at(2000, 10).map((t) => t.kind)).to.deep.equal(['firing']);
    expect(ev.views()[0]).to.include({ value: 3, actor: 'a' });
    expect(at(9000, 10)).to.deep.equal([]);
    expect(at(12_000, 10).map((t) => t.kind)).to.deep.equal(['resolved']);
  });

  it('without an actor: the worst actor counts and is named', () => {
    const ev = new AlertEvaluator(parseAlertRules([{ name: 'deep', when: { metric: 'inboxDepth', op: '>', value: 10 }, severity: 'info' }]));
    const [t] = ev.step(0, readings([{ id: 'a', restarts: 0, inboxDepth: 12 }, { id: 'b', restarts: 0, inboxDepth: 40 }, { id: 'c', restarts: 0, inboxDepth: 1 }]));
    expect(t!.alert).to.include({ value: 40, actor: 'b' });
  });

  it('health: degraded matches degraded and worse, of the system or one actor', () => {
    const ev = new AlertEvaluator(parseAlertRules([
      { name: 'sys', when: { health: 'degraded' }, severity: 'warning' },
      { name: 'one', when: { health: 'unhealthy', actor: 'a' }, severity: 'critical' },
    ]));
    expect(ev.needsHealth()).to.equal(true);
    const t = ev.step(0, readings([], { status: 'degraded', modules: [{ moduleId: 'a', status: 'degraded' }] }));
    expect(t.map((x) => x.alert.name)).to.deep.equal(['sys']);
    const u = ev.step(1000, readings([], { status: 'unhealthy', modules: [{ moduleId: 'a', status: 'unhealthy' }] }));
    expect(u.map((x) => `${x.kind}:${x.alert.name}`)).to.deep.equal(['firing:one']);
  });

  it('new rules: unchanged ones keep their state; a removed or changed firing rule resolves', () => {
    const rules = parseAlertRules([
      { name: 'keep', when: { metric: 'inboxDepth', op: '>', value: 0 }, severity: 'info' },
      { name: 'drop', when: { metric: 'inboxDepth', op: '>', value: 0 }, severity: 'info' },
    ]);
    const ev = new AlertEvaluator(rules);
    expect(ev.step(0, readings([{ id: 'a', restarts: 0, inboxDepth: 5 }]))).to.have.length(2);
    const out = ev.setRules([rules[0]!], 1000);
    expect(out.map((x) => `${x.kind}:${x.alert.name}`)).to.deep.equal(['resolved:drop']);
    expect(ev.views().map((v) => `${v.name}:${v.state}`)).to.deep.equal(['keep:firing']);
  });
});

describe('alerts: the manager', () => {
  function host(actors: ActorFigures[]): AlertHost & { events: AlertEventInput[]; told: Array<[string, unknown]>; logged: string[] } {
    const events: AlertEventInput[] = [];
    const told: Array<[string, unknown]> = [];
    const logged: string[] = [];
    const log = { info: (_o: unknown, m: string) => logged.push(`info ${m}`), warn: (_o: unknown, m: string) => logged.push(`warn ${m}`), error: (_o: unknown, m: string) => logged.push(`error ${m}`) };
    return {
      events,
      told,
      logged,
      log: log as unknown as AlertHost['log'],
      metrics: (() => ({ actors })) as unknown as AlertHost['metrics'],
      health: (async () => ({ status: 'healthy', modules: [] })) as unknown as AlertHost['health'],
      ref: ((id: string) => ({ tell: (msg: unknown) => told.push([id, msg]) })) as unknown as AlertHost['ref'],
      onShutdown: () => () => {},
      reportAlert: (e: AlertEventInput) => events.push(e),
    };
  }

  it('emits typed events, logs by severity, tells the actor, and lists state; a failing notifier is only logged', async () => {
    let now = 10_000;
    const actors: ActorFigures[] = [{ id: 'a', restarts: 0, inboxDepth: 50 }];
    const h = host(actors);
    const failing = (async () => {
      throw new Error('connection refused');
    }) as unknown as typeof fetch;
    const m = new AlertManager(h, {
      timer: false,
      clock: () => now,
      fetch: failing,
      rules: [{ name: 'deep', when: { metric: 'inboxDepth', actor: 'a', op: '>', value: 10 }, severity: 'critical', notify: ['log', { actor: 'pager' }, { webhook: 'http://127.0.0.1:1/hook?token=s3cret', retries: 0, timeoutMs: 100 }] }],
    });
    await m.evaluate();
    await m.settled();
    expect(h.events).to.deep.equal([{ type: 'alert-firing', alert: 'deep', severity: 'critical', actor: 'a', value: 50, since: 10_000 }]);
    expect(h.logged).to.include('error alert firing: deep');
    expect(h.logged).to.include('warn alert notification failed');
    expect(h.told[0]![0]).to.equal('pager');
    expect(h.told[0]![1]).to.include({ type: 'alert-firing', alert: 'deep', at: 10_000 });
    const [view] = m.list();
    expect(view).to.include({ state: 'firing', since: 10_000, value: 50 });
    expect(view!.rule.notify[2]).to.deep.equal({ webhook: 'http://127.0.0.1:1/hook' });
    now = 11_000;
    actors[0]!.inboxDepth = 0;
    await m.evaluate();
    await m.settled();
    expect(h.events[1]).to.deep.include({ type: 'alert-resolved', alert: 'deep', since: 10_000 });
    expect(h.logged).to.include('info alert resolved: deep');
    await m.close();
  });

  it('a webhook that does not answer is abandoned at its timeoutMs and tried again, `retries` times; then logged', async () => {
    const attempts: AbortSignal[] = [];
    // Never answers: each attempt ends only when its signal aborts.
    const hanging = ((_url: string, init: RequestInit) => {
      attempts.push(init.signal!);
      return new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason as Error)));
    }) as unknown as typeof fetch;
    const warned: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const log = { warn: (fields: Record<string, unknown>, msg: string) => warned.push({ fields, msg }), info: () => {}, error: () => {} } as unknown as Logger;
    const notice = { type: 'alert-firing', alert: 'deep', severity: 'warning', value: 1, since: 0, at: 0 } as const;
    await deliver([{ kind: 'webhook', url: 'http://127.0.0.1:9/hook', timeoutMs: 20, retries: 1 }], notice, { log, tell: () => {}, fetch: hanging });
    expect(attempts).to.have.length(2);
    expect(attempts.every((signal) => signal.aborted)).to.equal(true);
    expect(warned.map((w) => [w.msg, w.fields.to])).to.deep.equal([['alert notification failed', 'http://127.0.0.1:9/hook']]);
  });

  it('refuses bad rules and a bad interval', () => {
    const h = host([]);
    expect(() => new AlertManager(h, { timer: false, rules: [{ name: 'x', when: {}, severity: 'info' }] })).to.throw(InvalidOptionError, /rule 'x'/);
    expect(() => new AlertManager(h, { timer: false, intervalMs: 0 })).to.throw(InvalidOptionError, /intervalMs/);
  });
});

describe('alerts: Prometheus export', () => {
  it('maps restarts, metrics and system health onto the exported metrics and skips what is not exported', () => {
    const rules = parseAlertRules([
      { name: 'risk-crashloop', when: { restarts: { actor: 'risk', over: 3, within: '60s' } }, severity: 'critical', description: 'risk keeps crashing' },
      { name: 'deep', when: { metric: 'inboxDepth', actor: 'risk', op: '>=', value: 1000, for: '30s' }, severity: 'warning' },
      { name: 'hot', when: { metric: 'cpuPct', op: '>', value: 90, for: '2m' }, severity: 'info' },
      { name: 'degraded', when: { health: 'degraded', for: '1m' }, severity: 'warning' },
      { name: 'heap', when: { metric: 'heapUsedMb', op: '>', value: 500 }, severity: 'warning' },
      { name: 'one-sick', when: { health: 'unhealthy', actor: 'risk' }, severity: 'critical' },
    ]);
    const out = toPrometheusRules(rules, 'trading');
    expect(out.skipped.map((s) => s.name)).to.deep.equal(['heap', 'one-sick']);
    const doc = parse(out.yaml) as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> };
    expect(doc.groups[0]!.name).to.equal('ringmaster-trading');
    const byName = Object.fromEntries(doc.groups[0]!.rules.map((r) => [(r.labels as { rule: string }).rule, r]));
    expect(byName['risk-crashloop']).to.deep.include({ alert: 'risk_crashloop', expr: 'increase(ringmaster_restarts_total{actor="risk"}[1m]) > 3' });
    expect(byName['risk-crashloop']!.labels).to.deep.equal({ severity: 'critical', rule: 'risk-crashloop' });
    expect(byName['deep']).to.deep.include({ expr: 'ringmaster_inbox_depth{actor="risk"} >= 1000', for: '30s' });
    expect(byName['hot']).to.deep.include({ expr: 'ringmaster_event_loop_utilization_ratio * 100 > 90', for: '2m' });
    expect(byName['degraded']).to.deep.include({ expr: 'sum by (system) (ringmaster_actors{state!="running"}) > 0', for: '1m' });
    expect(out.yaml).to.match(/# skipped heap: metric heapUsedMb/);
    expect(promDuration(1500)).to.equal('1500ms');
  });
});
