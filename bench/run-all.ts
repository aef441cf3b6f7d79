/**
 * Runs every benchmark scenario — each bench/*.ts other than this file — one
 * after another, each in a process of its own (`node dist/bench/<name>.js`) so
 * that no scenario inherits another's heap, JIT state or leftover threads.
 * Exits non-zero if any scenario fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiledDir = dirname(fileURLToPath(import.meta.url));
/** The scenario list comes from the sources, so a stale compiled file of a deleted scenario is not run. */
const sourceDir = resolve(compiledDir, '../../bench');
const self = basename(fileURLToPath(import.meta.url), '.js');

const scenarios = readdirSync(sourceDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .filter((name) => name !== self)
  .sort();

const outcomes: Array<{ name: string; ok: boolean; seconds: number; detail: string }> = [];
for (const name of scenarios) {
  const script = join(compiledDir, `${name}.js`);
  if (!existsSync(script)) {
    outcomes.push({ name, ok: false, seconds: 0, detail: `${script} not found; build first` });
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  const seconds = (performance.now() - t0) / 1000;
  const ok = r.status === 0;
  const detail = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
  outcomes.push({ name, ok, seconds, detail });
}

console.log('\n=== summary ===');
for (const o of outcomes) console.log(`${o.ok ? 'ok  ' : 'FAIL'} ${o.name} (${o.seconds.toFixed(1)} s${o.ok ? '' : `, ${o.detail}`})`);
if (scenarios.length === 0) console.log(`no scenarios found in ${sourceDir}`);
if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
