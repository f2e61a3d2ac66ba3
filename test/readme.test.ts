/** The README is the newcomer's contract: its variable table must match what the code reads. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../src/config/variables.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rows = new Map(
  [...readme.matchAll(/^\| `([A-Z_]+)` \| (`[^`]*`|–) \|/gm)].map((m) => [m[1] as string, (m[2] as string).replaceAll('`', '')]),
);

describe('README', () => {
  it('documents every environment variable with its default', () => {
    for (const v of VARIABLES) {
      expect(rows.has(v.name), `${v.name} missing from the README table`).toBe(true);
      expect(rows.get(v.name), `${v.name} default`).toBe(v.default ?? '–');
    }
  });

  it('documents no variable the code does not read', () => {
    const known = new Set(VARIABLES.map((v) => v.name));
    for (const name of rows.keys()) expect(known.has(name), `${name} is in the README but not in config.ts`).toBe(true);
  });

  it('names the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
