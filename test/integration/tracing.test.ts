import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Codec, type Envelope } from '../../src/codec/envelope.js';
import { ActorSystem } from '../../src/index.js';
import { traceContext } from '../../src/codec/trace-hook.js';
import { currentTrace, disableTracing, ensureContextManager, readTrace, sentTrace } from '../../src/trace/tracing.js';
import type { RiskApi } from '../fixtures/actors/risk-api.js';
import { Processes, waitFor } from './cli-helpers.js';
import { actors, Systems, until } from './system-helpers.js';
import { spansIn } from './trace-helpers.js';

const SETUP = new URL('../fixtures/tracing/setup.js', import.meta.url).pathname;
const INDEX = new URL('../../src/index.js', import.meta.url).href;


describe('tracing: one trace across threads (real workers, an in-memory exporter)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  let dir: string;
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-tracing-'));
    process.env.RINGMASTER_TEST_SPANS = join(dir, 'spans.jsonl');
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    ensureContextManager();
  });

  afterEach(async () => {
    await systems.stopAll();
    disableTracing();
    trace.disable();
    context.disable();
    await provider.shutdown();
    delete process.env.RINGMASTER_TEST_SPANS;
    rmSync(dir, { recursive: true, force: true });
  });

  it('links main → actor → actor → pool actor as parent and child, each span named by actor and kind with its attributes', async () => {
    const children = [
      { id: 'a', module: actors('echo') },
      { id: 'b', module: actors('echo') },
      { id: 'squares', pool: { module: new URL('../fixtures/pool/tasks.js', import.meta.url).pathname, minThreads: 1, maxThreads: 1 } },
    ];
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children }, { tracing: { setup: SETUP } });
    const tracer = trace.getTracer('test');
    const answer = await tracer.startActiveSpan('main', async (span) => {
      try {
        return await system.ref('a').ask({ op: 'ask', to: 'b', msg: { op: 'ask', to: 'squares', msg: { op: 'square', n: 7 } } });
      } finally {
        span.end();
      }
    });
    expect(answer).to.deep.equal({ ok: { ok: 49 } });
    const main = exporter.getFinishedSpans().find((s) => s.name === 'main')!;
    const file = process.env.RINGMASTER_TEST_SPANS!;
    const spans = await until(() => {
      const s = spansIn(file);
      return s.some((x) => x.name === 'a ask') && s.some((x) => x.name === 'b ask') && s;
    }, 'the spans of both actors');
    const a = spans.find((s) => s.name === 'a ask')!;
    const b = spans.find((s) => s.name === 'b ask')!;
    expect(a.traceId).to.equal(main.spanContext().traceId);
    expect(b.traceId).to.equal(main.spanContext().traceId);
    expect(a.parent).to.equal(main.spanContext().spanId);
    expect(b.parent).to.equal(a.spanId);
    expect(a.attributes).to.deep.include({ 'ringmaster.actor': 'a', 'ringmaster.incarnation': 1, 'ringmaster.message.kind': 'ask', 'ringmaster.message.from': '$system' });
    expect(b.attributes).to.deep.include({ 'ringmaster.actor': 'b', 'ringmaster.message.from': 'a' });
    expect(a.attributes['ringmaster.handler_ms']).to.be.a('number');
    for (const s of [a, b]) expect(s.attributes['ringmaster.queue_wait_ms'], s.name).to.be.a('number').and.at.least(0);
    expect(a.status).to.equal(SpanStatusCode.UNSET);
    const pool = exporter.getFinishedSpans().find((s) => s.name === 'squares ask')!;
    expect(pool.spanContext().traceId).to.equal(main.spanContext().traceId);
    expect(pool.parentSpanContext?.spanId).to.equal(b.spanId);
    expect(pool.attributes).to.deep.include({ 'ringmaster.actor': 'squares', 'ringmaster.message.from': 'b' });
    expect(pool.attributes['ringmaster.queue_wait_ms']).to.be.a('number').and.at.least(0);
  });

  it('makes the message’s span active in the handler: a span the actor starts nests under it, and what it sends from there under that', async () => {
    const children = [
      { id: 'a', module: actors('spans') },
      { id: 'b', module: actors('echo') },
    ];
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children }, { tracing: { setup: SETUP } });
    const answer = (await system.ref('a').ask({ op: 'span', name: 'user-work', to: 'b', msg: { op: 'echo', value: 5 } }, { timeout: 30_000 })) as { spanId: string; answer: unknown };
    expect(answer.answer).to.equal(5);
    const file = process.env.RINGMASTER_TEST_SPANS!;
    const spans = await until(() => {
      const all = spansIn(file);
      return ['a ask', 'user-work', 'b ask'].every((name) => all.some((x) => x.name === name)) && all;
    }, 'the message’s span, the user’s and the one of what it sent');
    const message = spans.find((s) => s.name === 'a ask')!;
    const user = spans.find((s) => s.name === 'user-work')!;
    const sent = spans.find((s) => s.name === 'b ask')!;
    expect(user).to.deep.include({ spanId: answer.spanId, traceId: message.traceId, parent: message.spanId });
    expect(sent).to.deep.include({ traceId: message.traceId, parent: user.spanId });
  });

  it('carries the context of a publish and of a request: the subscriber’s span is a child of the sender’s, with the topic', async () => {
    const children = [
      { id: 'a', module: actors('echo'), subscribe: ['t.>'] },
      { id: 'b', module: actors('echo'), subscribe: ['q.>'] },
    ];
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children }, { tracing: { setup: SETUP } });
    const answer = await trace.getTracer('test').startActiveSpan('main', async (span) => {
      try {
        system.publish('t.x', { op: 'echo', value: 1 });
        return await system.request('q.y', { op: 'echo', value: 2 }, { timeout: 30_000 });
      } finally {
        span.end();
      }
    });
    expect(answer).to.equal(2);
    const main = exporter.getFinishedSpans().find((s) => s.name === 'main')!.spanContext();
    const file = process.env.RINGMASTER_TEST_SPANS!;
    const spans = await until(() => {
      const all = spansIn(file);
      return all.some((x) => x.name === 'a tell') && all.some((x) => x.name === 'b ask') && all;
    }, 'the spans of the publish and the request');
    const published = spans.find((s) => s.name === 'a tell')!;
    const requested = spans.find((s) => s.name === 'b ask')!;
    for (const [span, topic] of [[published, 't.x'], [requested, 'q.y']] as const) {
      expect(span, span.name).to.deep.include({ traceId: main.traceId, parent: main.spanId });
      expect(span.attributes, span.name).to.deep.include({ 'ringmaster.message.topic': topic, 'ringmaster.message.from': '$system' });
    }
  });

  it("nests a span the pool actor's task starts in its piscina worker under the message's span", async () => {
    const pool = { module: new URL('../fixtures/pool/tasks.js', import.meta.url).pathname, minThreads: 1, maxThreads: 1 };
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'squares', pool }] }, { tracing: { setup: SETUP } });
    const userSpanId = await trace.getTracer('test').startActiveSpan('main', async (span) => {
      try {
        return await system.ref('squares').ask({ op: 'span', name: 'user-task' });
      } finally {
        span.end();
      }
    });
    const message = exporter.getFinishedSpans().find((s) => s.name === 'squares ask')!;
    const user = await until(() => spansIn(process.env.RINGMASTER_TEST_SPANS!).find((s) => s.name === 'user-task'), "the task's own span");
    expect(user.spanId).to.equal(userSpanId);
    expect(user.traceId).to.equal(message.spanContext().traceId);
    expect(user.parent).to.equal(message.spanContext().spanId);
  });

  it("marks the span of a proxy call whose method throws with error status (the caller gets the error, the actor lives)", async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'risk', module: actors('risk-api') }] }, { tracing: { setup: SETUP } });
    const risk = system.proxy<RiskApi>('risk');
    const rejected = await trace.getTracer('test').startActiveSpan('main', async (span) => {
      try {
        expect(await risk.check({ symbol: 'X', qty: 1 })).to.deep.equal({ ok: true, exposure: 1 });
        return await (risk.reject('too big') as Promise<void>).then(() => null, (e: Error) => e);
      } finally {
        span.end();
      }
    });
    expect(rejected?.message).to.equal('rejected: too big');
    const calls = await until(() => {
      const c = spansIn(process.env.RINGMASTER_TEST_SPANS!).filter((s) => s.name === 'risk call');
      return c.length === 2 && c;
    }, 'the spans of both calls');
    expect(calls.map((c) => c.status)).to.deep.equal([SpanStatusCode.UNSET, SpanStatusCode.ERROR]);
    expect(system.status().find((s) => s.id === 'risk')!.incarnation).to.equal(1);
  });

  it("turns tracing off in the main thread when the last system with tracing stops: a later system's sends carry no trace field", async () => {
    const tree = { id: 'root', strategy: 'one_for_one' as const, children: [{ id: 'a', module: actors('echo') }] };
    const first = (await systems.start(tree, { name: 'first', tracing: true })).system;
    const second = (await systems.start(tree, { name: 'second', tracing: true })).system;
    await first.stop();
    expect(traceContext, 'still on: the second system has tracing').to.not.equal(null);
    await second.stop();
    expect(traceContext).to.equal(null);
    const plain = (await systems.start(tree, { name: 'plain' })).system;
    const sent: Envelope[] = [];
    const encode = Codec.prototype.encode;
    Codec.prototype.encode = function (this: Codec, env: Envelope, ...rest: unknown[]) {
      sent.push({ ...env });
      return (encode as (...a: unknown[]) => number).call(this, env, ...rest);
    } as typeof encode;
    try {
      await trace.getTracer('test').startActiveSpan('main', async (span) => {
        expect(await plain.ref('a').ask({ op: 'echo', value: 1 })).to.equal(1);
        span.end();
      });
    } finally {
      Codec.prototype.encode = encode;
    }
    expect(sent.filter((e) => e.to === 'a')).to.have.length.at.least(1);
    expect(sent.filter((e) => 'trace' in e)).to.deep.equal([]);
  });

  it('marks the span of a handler that throws (the actor crashes) with error status', async () => {
    const { system } = await systems.start({ id: 'root', strategy: 'one_for_one', children: [{ id: 'c', module: actors('crasher') }] }, { tracing: { setup: SETUP } });
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('main', (span) => {
      system.ref('c').tell({ op: 'throw', message: 'traced boom' });
      span.end();
    });
    const file = process.env.RINGMASTER_TEST_SPANS!;
    const crashed = await until(() => spansIn(file).find((s) => s.name === 'c tell'), 'the span of the crashing tell');
    expect(crashed.status).to.equal(SpanStatusCode.ERROR);
    expect(crashed.parent).to.equal(exporter.getFinishedSpans().find((s) => s.name === 'main')!.spanContext().spanId);
  });

  it('turns tracing on from a config file, with its setup module relative to the file', async () => {
    writeFileSync(join(dir, 'otel.mjs'), `import ${JSON.stringify(SETUP)};\n`);
    const file = join(dir, 'system.yaml');
    writeFileSync(file, `name: traced\nlog: { level: silent }\ntracing:\n  setup: ./otel.mjs\ntree:\n  id: root\n  strategy: one_for_one\n  children:\n    - id: a\n      module: ${actors('echo')}\n`);
    const system = await ActorSystem.fromConfig(file, { watch: false });
    systems.track(system);
    const main = await trace.getTracer('test').startActiveSpan('main', async (span) => {
      await system.ref('a').ask({ op: 'echo', value: 1 });
      span.end();
      return span.spanContext();
    });
    const a = await until(() => spansIn(process.env.RINGMASTER_TEST_SPANS!).find((s) => s.name === 'a ask'), "the actor's span");
    expect(a).to.deep.include({ traceId: main.traceId, parent: main.spanId });
  });

  it('puts no trace field on the wire without an active span, and one with', () => {
    const codec = new Codec();
    const plain = codec.encodeToBytes({ kind: 'tell', from: 'x', to: 'y', id: 0, payload: { n: 1 } });
    expect(plain[0]).to.equal(0x94); // [head, from, id, payload]: no trace field
    expect(codec.decode(plain, 0, plain.length, 'y')).to.not.have.property('trace');
    expect(currentTrace()).to.equal(undefined);
    const traced = trace.getTracer('test').startActiveSpan('main', (span) => {
      const field = currentTrace();
      span.end();
      return { field, id: span.spanContext() };
    });
    expect(traced.field).to.equal(`00-${traced.id.traceId}-${traced.id.spanId}-01`);
    const bytes = codec.encodeToBytes({ kind: 'tell', from: 'x', to: 'y', id: 0, payload: { n: 1 }, trace: traced.field });
    expect(bytes[0]).to.equal(0x96);
    expect(codec.decode(bytes, 0, bytes.length, 'y')).to.deep.include({ trace: traced.field, payload: { n: 1 }, topic: undefined });
  });

  it('stamps a send with its time in the trace field, and reads the parent and the time back (with or without a tracestate)', () => {
    const tracer = trace.getTracer('test');
    const { field, id } = tracer.startActiveSpan('main', (span) => {
      span.end();
      return { field: sentTrace(), id: span.spanContext() };
    });
    const [parent, sent] = field!.split('\n');
    expect(parent).to.equal(`00-${id.traceId}-${id.spanId}-01`);
    expect(sent).to.match(/^\d+$/);
    const read = readTrace(field);
    expect(trace.getSpanContext(read.parent)).to.include({ traceId: id.traceId, spanId: id.spanId, isRemote: true });
    expect(read.sentMicros).to.equal(Number(sent));
    const withState = readTrace(`${parent}\n${sent}\nvendor=abc`);
    expect(trace.getSpanContext(withState.parent)!.traceState!.get('vendor')).to.equal('abc');
    expect(withState.sentMicros).to.equal(Number(sent));
    expect(readTrace(`${parent}\nvendor=abc`).sentMicros).to.equal(undefined);
    expect(readTrace(undefined).sentMicros).to.equal(undefined);
    expect(sentTrace(), 'no active span, no field').to.equal(undefined);
  });
});

describe('tracing: log lines inside a handler carry the span (real workers, real stdout)', function () {
  this.timeout(60_000);

  it('adds trace_id and span_id to what ctx.log writes while a traced message is handled', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringmaster-tracing-'));
    try {
      const script = `
        import { trace } from '@opentelemetry/api';
        import ${JSON.stringify(SETUP)};
        import { ActorSystem } from ${JSON.stringify(INDEX)};
        import { ensureContextManager } from ${JSON.stringify(new URL('../../src/trace/tracing.js', import.meta.url).href)};
        ensureContextManager();
        const system = await ActorSystem.start({ name: 'traced-logs', log: { level: 'info', pretty: false }, tracing: { setup: ${JSON.stringify(SETUP)} },
          tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'a', module: ${JSON.stringify(actors('echo'))} }] } });
        await trace.getTracer('test').startActiveSpan('main', async (span) => {
          await system.ref('a').ask({ op: 'log', mark: 'traced' });
          console.log(JSON.stringify({ main: span.spanContext().traceId }));
          span.end();
        });
        await system.stop();
      `;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 50_000,
        cwd: new URL('../../..', import.meta.url).pathname,
        env: { ...process.env, RINGMASTER_TEST_SPANS: join(dir, 'spans.jsonl') },
      });
      expect(run.status, run.stderr).to.equal(0);
      const lines = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const line = lines.find((l) => l.mark === 'traced')!;
      const main = lines.find((l) => typeof l.main === 'string')!.main;
      const span = spansIn(join(dir, 'spans.jsonl')).find((s) => s.name === 'a ask')!;
      expect(line).to.include({ trace_id: main, span_id: span.spanId });
      expect(lines.filter((l) => l.actor === 'a' && l.mark === undefined && 'trace_id' in l)).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tracing: ringmaster start with the file’s tracing.setup (a real process)', function () {
  this.timeout(60_000);
  const processes = new Processes();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ringmaster-tracing-cli-'))));
  afterEach(async () => {
    await processes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports the setup into its own main thread too, so the main thread’s spans (a pool actor’s) are exported', async () => {
    const spans = join(dir, 'spans.jsonl');
    const marks = join(dir, 'marks');
    writeFileSync(join(dir, 'otel.mjs'), `import { appendFileSync } from 'node:fs';\nimport { isMainThread } from 'node:worker_threads';\nimport ${JSON.stringify(SETUP)};\nappendFileSync(${JSON.stringify(marks)}, isMainThread ? 'main\\n' : 'worker\\n');\n`);
    // An actor that sends the pool one tell from inside a span of its own, once it has started.
    writeFileSync(
      join(dir, 'kick.mjs'),
      `import { trace } from ${JSON.stringify(import.meta.resolve('@opentelemetry/api'))};\nimport { defineActor } from ${JSON.stringify(INDEX)};\n` +
        `export default defineActor({ init(ctx) { trace.getTracer('kick').startActiveSpan('kick', (s) => { ctx.send('squares', { op: 'square', n: 3 }); s.end(); }); return {}; }, receive: () => undefined });\n`,
    );
    const pool = new URL('../fixtures/pool/tasks.js', import.meta.url).pathname;
    writeFileSync(
      join(dir, 'traced.yaml'),
      `tracing: { setup: ./otel.mjs }\nlog: { level: silent }\ntree:\n  id: root\n  strategy: one_for_one\n  children:\n    - id: squares\n      pool: { module: ${pool}, minThreads: 1, maxThreads: 1 }\n    - id: kick\n      module: ./kick.mjs\n      dependencies: [squares]\n`,
    );
    const run = processes.launch(['start', join(dir, 'traced.yaml')], { RINGMASTER_TEST_SPANS: spans });
    await waitFor(run, /stops it gracefully/);
    const told = await until(() => spansIn(spans).find((s) => s.name === 'squares tell'), 'the pool message’s span, made in the main thread');
    const kick = spansIn(spans).find((s) => s.name === 'kick')!;
    expect(told).to.deep.include({ traceId: kick.traceId, parent: kick.spanId });
    run.child.kill('SIGINT');
    expect(await run.exit, run.stderr).to.equal(0);
    const threads = readFileSync(marks, 'utf8').split('\n').filter(Boolean);
    expect(threads[0], 'the main thread first, before any worker').to.equal('main');
    expect(threads.filter((t) => t === 'main')).to.have.length(1);
    expect(threads).to.include('worker');
  });

  it('a setup that throws, or is not there, is a problem of the file at tracing.setup with the resolved path (exit 1, nothing started); validate says the same', async () => {
    const setup = join(dir, 'otel.mjs');
    const file = join(dir, 'traced.yaml');
    writeFileSync(setup, `throw new Error('no collector configured');\n`);
    writeFileSync(file, `log: { level: silent }\ntracing:\n  setup: ./otel.mjs\ntree:\n  id: root\n  strategy: one_for_one\n  children:\n    - id: a\n      module: ${actors('echo')}\n`);
    const throws = `${file}: 1 problem:\n  ${file}:3: tracing.setup: cannot load ${setup}: no collector configured\n`;
    for (const command of ['start', 'validate']) {
      const r = await processes.ringmaster([command, file]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr, command).to.equal(throws);
      expect(r.stdout).to.equal('');
    }
    rmSync(setup);
    const missing = `${file}: 1 problem:\n  ${file}:3: tracing.setup: module file not found: ${setup}\n`;
    for (const command of ['start', 'validate']) {
      const r = await processes.ringmaster([command, file]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr, command).to.equal(missing);
    }
    writeFileSync(setup, `import ${JSON.stringify(SETUP)};\n`);
    const fine = await processes.ringmaster(['validate', file]);
    expect(fine.code, fine.stderr).to.equal(0);
    expect(fine.stdout.split(' — ')[0], 'a setup that loads').to.equal(`${file}: OK`);
  });
});
