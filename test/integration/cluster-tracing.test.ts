import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { disableTracing, ensureContextManager } from '../../src/trace/tracing.js';
import type { SpanLine } from '../fixtures/tracing/setup.js';
import { clusterSuite, HEARTBEAT_MS, MISSES } from './cluster-helpers.js';
import { actors, until } from './system-helpers.js';
import { spansIn } from './trace-helpers.js';

const SETUP = new URL('../fixtures/tracing/setup.js', import.meta.url).pathname;

describe('cluster: one trace across nodes (real nats-server, real workers)', function () {
  this.timeout(120_000);
  const suite = clusterSuite('ct');
  let dir: string;
  let file: string;
  let provider: BasicTracerProvider;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-cluster-tracing-'));
    file = join(dir, 'spans.jsonl');
    process.env.RINGMASTER_TEST_SPANS = file;
    provider = new BasicTracerProvider();
    trace.setGlobalTracerProvider(provider);
    ensureContextManager();
  });

  afterEach(async () => {
    await suite.systems.stopAll();
    disableTracing();
    trace.disable();
    context.disable();
    await provider.shutdown();
    delete process.env.RINGMASTER_TEST_SPANS;
    rmSync(dir, { recursive: true, force: true });
  });

  const spans = (): SpanLine[] => spansIn(file);

  it("an actor's ask to an actor of another node is a child of the asker's span, in the same trace", async () => {
    const start = (node: string, id: string) =>
      suite.systems.start(
        { id: 'root', strategy: 'one_for_one', children: [{ id, module: actors('echo') }] },
        { name: suite.name, tracing: { setup: SETUP }, cluster: { node, servers: suite.server.url, heartbeatMs: HEARTBEAT_MS, misses: MISSES } },
      );
    const a = await start('n1', 'a');
    await start('n2', 'b');
    await until(() => a.system.ref('b').node === 'n2', 'n1 knowing b');
    expect(await a.system.ref('a').ask({ op: 'ask', to: 'b', msg: { op: 'echo', value: 7 } })).to.deep.equal({ ok: 7 });
    const [sa, sb] = await until(() => {
      const all = spans();
      const x = all.find((s) => s.name.startsWith('a '));
      const y = all.find((s) => s.name.startsWith('b '));
      return x && y ? [x, y] : undefined;
    }, 'the spans of a and b');
    expect(sb.traceId, 'one trace across the nodes').to.equal(sa.traceId);
    expect(sb.parent, "b's span is a child of a's").to.equal(sa.spanId);
  });
});
