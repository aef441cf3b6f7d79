import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HOST_URL } from '../../src/system/services.js';

describe('the bundled actor host (scripts/bundle-host.mjs)', () => {
  const file = fileURLToPath(HOST_URL);
  const code = readFileSync(file, 'utf8');
  const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);

  it('is what actor workers boot, once the build made it', () => {
    expect(file.endsWith('/dist/workers/actor-host.bundle.js'), file).to.equal(true);
  });

  it('imports from dist/src only the modules an actor module shares with it (define.js and errors.js) and the trace hook it shares with tracing', () => {
    const local = [...new Set(imports.filter((s) => s.startsWith('.')))].sort();
    expect(local).to.deep.equal(['./../src/actor/define.js', './../src/codec/trace-hook.js', './../src/errors.js']);
  });

  it('holds msgpackr and comlink (no package is imported at boot), and leaves pino to the first line logged', () => {
    const packages = [...new Set(imports.filter((s) => !s.startsWith('.') && !s.startsWith('node:')))];
    expect(packages).to.deep.equal([]);
    expect(code).to.match(/\brequire\d*\("pino"\)/);
  });

  it('leaves tracing out: a worker of a traced system loads it with import() at boot', () => {
    expect(code).to.include('import("./../src/trace/tracing.js")');
    expect(code).to.not.include('@opentelemetry');
  });

  it('leaves the NATS client out: a journal on JetStream loads it with import() when it opens', () => {
    expect(code).to.include('import("@nats-io/transport-node")');
    expect(code).to.include('import("@nats-io/jetstream")');
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.filter((s) => s.includes('@nats-io'))).to.deep.equal([]);
  });

  it('maps its lines back to the .ts sources', () => {
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith('src/host/host.ts'))).to.equal(true);
    expect(map.sources.some((s) => s.endsWith('.js') && s.includes('/dist/'))).to.equal(false);
  });
});
