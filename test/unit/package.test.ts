import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function maps(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? maps(join(dir, e.name)) : e.name.endsWith('.js.map') ? [join(dir, e.name)] : []));
}

describe('the published package', () => {
  it('ships source maps that carry their sources (the package has no src/ for them to point at)', () => {
    const shipped = ['dist/src', 'dist/workers'].flatMap((d) => maps(join(ROOT, d)));
    expect(shipped.length).to.be.greaterThan(10);
    for (const file of shipped) {
      const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: string[] };
      const name = relative(ROOT, file);
      expect(map.sourcesContent, name).to.have.length(map.sources.length);
      const source = join(file, '..', map.sources[0]!);
      expect(map.sourcesContent![0], name).to.equal(readFileSync(source, 'utf8'));
    }
  });
});
