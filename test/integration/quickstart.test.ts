import { expect } from 'chai';
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README's quickstart section: from its heading to the next one of the same level. */
function quickstart(): string {
  const start = README.indexOf('\n## Quickstart: your own project\n');
  if (start < 0) throw new Error('README has no "Quickstart: your own project" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

interface Block {
  lang: string;
  name: string | undefined;
  body: string;
}

function blocks(text: string): Block[] {
  return [...text.matchAll(/^```(\w*)(?: (\S+))?\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, name: m[2], body: m[3]! }));
}

describe("the README's quickstart, run as written in a fresh project (npm pack, a real install, tsc, node)", function () {
  this.timeout(300_000);
  let dir: string;
  let packs: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringmaster-quickstart-'));
    packs = mkdtempSync(join(tmpdir(), 'ringmaster-pack-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(packs, { recursive: true, force: true });
  });

  it('installs the packed library, compiles the three files and prints what the README says', () => {
    const section = quickstart();
    const all = blocks(section);
    const sh = all.filter((b) => b.lang === 'sh');
    expect(sh, 'an install block and a build-and-run block').to.have.length(2);
    const files = all.filter((b) => b.name !== undefined);
    expect(files.map((f) => f.name)).to.deep.equal(['tsconfig.json', 'src/counter.ts', 'src/main.ts']);
    const output = all[all.indexOf(sh[1]!) + 1]!;
    expect(output.lang, 'the block after the run command is its output').to.equal('');

    execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = join(packs, readdirSync(packs).find((f) => f.endsWith('.tgz'))!);

    // The npm cache of this machine serves what it has; anything else comes from the registry.
    const env = { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    for (const line of sh[0]!.body.trim().split('\n')) {
      const command = line.replace('/path/to/ringmaster-0.1.0.tgz', tarball);
      execSync(command, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    }
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.name!)), { recursive: true });
      writeFileSync(join(dir, f.name!), f.body);
    }
    // Run from another folder than the project's: baseDir: import.meta.url must find the module all the same.
    const run = sh[1]!.body.trim().replace('dist/main.js', join(dir, 'dist/main.js'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'ringmaster-elsewhere-'));
    try {
      const tsc = run.split(' && ')[0]!;
      execSync(tsc, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = execSync(run.split(' && ')[1]!, { cwd: elsewhere, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).to.equal(output.body);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
