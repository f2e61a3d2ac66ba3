/** docs/redis-layout.md is the map of what the service keeps in Redis: it must match src/redis/keys.ts. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as keys from '../src/redis/keys.js';

const doc = readFileSync(new URL('../docs/redis-layout.md', import.meta.url), 'utf8');
/** Rows whose first cell names a builder: builder → the key column. */
const rows = new Map([...doc.matchAll(/^\| `([A-Za-z]+)` \| `([^`]+)` \|/gm)].map((m) => [m[1] as string, m[2] as string]));
const builders = Object.entries(keys).filter((e): e is [string, (...args: string[]) => string] => typeof e[1] === 'function');

/** The builder's own parameter names, as `<name>` placeholders. */
function placeholders(fn: (...args: string[]) => string): string[] {
  const params = /^function\s*\w*\s*\(([^)]*)\)/.exec(fn.toString())?.[1] ?? '';
  return params
    .split(',')
    .map((p) => p.trim().split(/[\s:=]/)[0] as string)
    .filter(Boolean)
    .map((p) => `<${p}>`);
}

describe('docs/redis-layout.md', () => {
  it('has a row for every key builder', () => {
    expect(builders.length).toBeGreaterThan(10);
    for (const [name] of builders) expect(rows.has(name), `${name} missing from docs/redis-layout.md`).toBe(true);
  });

  it('names no builder that src/redis/keys.ts lacks', () => {
    for (const name of rows.keys()) expect(Object.hasOwn(keys, name), `${name} is in the doc but not in keys.ts`).toBe(true);
  });

  it('shows the key each builder builds', () => {
    for (const [name, build] of builders) {
      // A worker's client name holds its queue in base64, which a placeholder cannot show.
      if (name === 'workerClientName') continue;
      expect(rows.get(name), name).toBe(build(...placeholders(build)));
    }
  });

  it('lists every Lua script, each headed by its KEYS and ARGV', () => {
    const dir = new URL('../src/redis/scripts/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
      const head = readFileSync(new URL(file, dir), 'utf8').split(']]')[0] as string;
      expect(head.startsWith('--[['), `${file} starts with its header`).toBe(true);
      if (file.endsWith('-prelude.lua')) continue;
      expect(head, `${file} names its KEYS`).toMatch(/KEYS\[1(\.\.)?\]/);
      expect(head, `${file} names its ARGV`).toMatch(/ARGV\[1(\.\.)?\]|No ARGV/);
      expect(head, `${file} says what it returns`).toMatch(/Returns/);
    }
  });
});
