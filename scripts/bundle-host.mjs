// An actor's worker thread boots from one file: dist/workers/actor-host.bundle.js,
// the compiled host with everything it imports (msgpackr, comlink, the
// transport) in it. Loading the same code as ~45 separate modules costs each
// worker a file open, stat, read and compile per module through the process's
// shared libuv pool; with a hundred workers starting at once that queue was
// most of their start time (the start-up figures are in docs/benchmarks.md).
//
// Two modules stay outside, loaded from dist/src as their own files: the ones
// an actor module itself imports through `ringmaster/actor` (define.js and
// errors.js). The host and the user's code then share one copy of each, so
// `err instanceof AskTimeoutError` and the defineActor brand mean the same on
// both sides. Tracing stays outside too: src/trace/tracing.js (and the
// OpenTelemetry packages it imports) is loaded with import() only when the
// system has `tracing` on, and it installs the sender's trace source in
// src/codec/trace-hook.js, which the bundle and it must share. pino is not bundled either: the host loads it with require on
// the first line logged (src/log/logger.ts). Nor is the NATS client of the
// jetstream journal backend (@nats-io/*): src/persistence/jetstream-connection.ts
// loads it with import() when a persistent actor opens a journal there, so a
// worker that does not use it neither parses nor loads it at boot.
//
// esbuild reads tsc's source maps, so stack traces from the bundle point
// into the .ts sources.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outDir = path.join(dist, 'workers');
const SHARED = ['src/errors.js', 'src/actor/define.js', 'src/codec/trace-hook.js', 'src/trace/tracing.js'];
const shared = new Set(SHARED.map((f) => path.join(dist, f)));

const result = await build({
  entryPoints: [path.join(outDir, 'actor-host.js')],
  outfile: path.join(outDir, 'actor-host.bundle.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  external: ['@nats-io/*', '@opentelemetry/*'], // OpenTelemetry: one copy per thread, shared with a tracing.setup module's SDK
  plugins: [
    {
      name: 'shared-with-actor-modules',
      setup(b) {
        b.onResolve({ filter: /^\./ }, (args) => {
          const file = path.resolve(args.resolveDir, args.path);
          if (!shared.has(file)) return undefined;
          return { path: `./${path.relative(outDir, file).split(path.sep).join('/')}`, external: true };
        });
      },
    },
  ],
});
const inputs = Object.keys(result.metafile.inputs).length;
if (inputs < 10) throw new Error(`bundle-host: only ${inputs} inputs bundled; is dist/workers/actor-host.js built?`);
