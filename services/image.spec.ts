// The production image (Dockerfile: COPY . . minus .dockerignore) must carry no test fixture: the Bot API emulator
// and the sandbox web chat live under test/ and only `npm run dev` and the tests use them.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(relative);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !ignored.includes(relative)
      ? [relative]
      : [];
  });
}

describe('the production image', () => {
  it('leaves out the test fixtures, the benchmarks and the dev sandbox', () => {
    for (const entry of ['test', 'bench', 'scripts/dev.ts', '**/*.spec.ts']) expect(ignored).to.include(entry);
  });

  it('ships no code that imports from test/ or bench/', () => {
    const shipped = ['services', 'lib', 'gateway', 'scripts'].flatMap(sources);
    expect(shipped).to.include('scripts/start.ts');
    for (const file of shipped) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, specifier] of text.matchAll(/from '([^']+)'/g)) {
        if (!specifier!.startsWith('.')) continue;
        const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier!));
        expect(target, `${file} imports ${specifier}`).to.not.match(/^(test|bench)\//);
      }
    }
  });
});
