/**
 * The house has floors: a folder under src/ may import its own floor and the floors below it, never
 * one above. Checked by reading every `import … from './…'`, `export … from './…'` and
 * `import('./…')` of every file under src/ (type-only imports too: they tie files as tightly), then
 * (1) mapping each file to its folder's floor and (2) walking the file graph for cycles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Bottom to top. The src/ root holds only the entry points, the top floor. */
const FLOORS = [
  'config',
  'telemetry',
  'redis',
  'jobs',
  'handlers',
  'schedules',
  'services',
  'runtime',
  'producers',
  'workers',
  'ops',
  'web',
  'cli',
  'dev',
  '.',
] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The src-relative files a file imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => relative(SRC, resolve(SRC, dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))));
}

/** A file's floor is its top folder under src/ ('.' for the root). */
function floorOf(file: string): string {
  const top = file.includes('/') ? (file.split('/')[0] as string) : '.';
  return top;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('layering of src/', () => {
  it('puts every folder on a floor', () => {
    const unknown = [...new Set(files.map(floorOf))].filter((f) => !(FLOORS as readonly string[]).includes(f));
    expect(unknown, 'folders missing from FLOORS').toEqual([]);
  });

  it('keeps only the entry points at the root', () => {
    expect(files.filter((f) => !f.includes('/')).sort()).toEqual(['cli.ts', 'index.ts']);
  });

  it('resolves every relative import to a file', () => {
    const missing = [...graph].flatMap(([from, tos]) => tos.filter((to) => !graph.has(to)).map((to) => `${from} -> ${to}`));
    expect(missing).toEqual([]);
  });

  it('has no folder importing a folder above it', () => {
    const rank = (f: string) => FLOORS.indexOf(floorOf(f) as (typeof FLOORS)[number]);
    const upward = [...graph].flatMap(([from, tos]) => tos.filter((to) => rank(to) > rank(from)).map((to) => `${from} -> ${to}`));
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const to of graph.get(file) ?? []) visit(to, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
