/**
 * The README is the newcomer's contract: short, the two commands, a layout that names every folder.
 * docs/configuration.md is the operator's: its variable table must match what the code reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../src/config/variables.js';

const ROOT = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const configuration = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
const rows = new Map(
  [...configuration.matchAll(/^\| `([A-Z_]+)` \| (`[^`]*`|–) \|/gm)].map((m) => [m[1] as string, (m[2] as string).replaceAll('`', '')]),
);

/** Folders git does not keep (.gitignore's `name/` lines) and hidden ones: not part of the layout. */
const NOT_LAYOUT = new Set(
  readFileSync(join(ROOT, '.gitignore'), 'utf8')
    .split('\n')
    .filter((l) => /^[\w.-]+\/$/.test(l))
    .map((l) => l.slice(0, -1)),
);

function folders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_LAYOUT.has(e.name))
    .flatMap((e) => [join(dir, e.name), ...folders(join(dir, e.name))]);
}

describe('docs/configuration.md', () => {
  it('documents every environment variable with its default', () => {
    for (const v of VARIABLES) {
      expect(rows.has(v.name), `${v.name} missing from the table in docs/configuration.md`).toBe(true);
      expect(rows.get(v.name), `${v.name} default`).toBe(v.default ?? '–');
    }
  });

  it('documents no variable the code does not read', () => {
    const known = new Set(VARIABLES.map((v) => v.name));
    for (const name of rows.keys())
      expect(known.has(name), `${name} is in docs/configuration.md but not in src/config/variables.ts`).toBe(true);
  });
});

describe('README', () => {
  it('names the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });

  it('is read in ten minutes: at most 250 lines, the rest in docs/', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(250);
  });

  it('names every folder of the repository in its layout', () => {
    const layout = /^## Layout\n[\s\S]*?^```text\n([\s\S]*?)^```/m.exec(readme)?.[1];
    expect(layout, 'a ```text block under "## Layout"').toBeDefined();
    const all = folders(ROOT).map((f) => f.slice(ROOT.length + 1));
    expect(all).toContain('src/workers');
    const missing = all.filter((f) => !layout?.includes(`${f.split('/').at(-1)}/`));
    expect(missing, 'folders the README layout does not name').toEqual([]);
  });
});
