/** The catalog of job kinds: where kinds come from, what a bad catalog does, and that it is the only place a kind exists. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_KINDS, envStemOf } from '../src/config/catalog.js';
import { loadCatalog } from '../src/config/catalog-source.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig, loadSettings } from '../src/config/load.js';
import { kindsOf } from '../src/jobs/registry.js';
import { runCli } from './helpers/spawn-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** Writes a handler module and returns its path. */
function moduleFile(source: string): string {
  const p = join(dir, `m${++n}.mjs`);
  writeFileSync(p, source);
  return p;
}
async function catalogError(env: Record<string, string>): Promise<ConfigError> {
  const err = await loadSettings(env).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof ConfigError) return err;
  throw new Error(`expected a ConfigError, got ${String(err)}`);
}

describe('the catalog', () => {
  it('is Spotter three kinds by default, each with its own queue and variables', () => {
    const c = loadConfig({});
    expect(kindsOf(c).map((k) => [k.name, k.scope, k.queue])).toEqual([
      ['sync', 'user', 'sync'],
      ['enrichment', 'user', 'enrichment'],
      ['write-back', 'user', 'writeback'],
    ]);
  });

  it('takes the kinds a module exports as `jobs`, with their defaults and SPOTTER_JOBS_<KIND>_… overrides', async () => {
    const path = moduleFile(`
      export const listUsers = ['u1'];
      export const sync = async () => null, enrichment = async () => null, writeback = async () => null;
      export const jobs = {
        'credit-top-up': { scope: 'global', schedule: '0 0 1 * *', concurrency: 1, attempts: 3, run: async () => null },
        download: { scope: 'item', concurrency: 4, timeout: '30s', run: async () => null },
      };`);
    const c = await loadSettings({
      SPOTTER_JOBS_HANDLERS: path,
      SPOTTER_JOBS_TZ: 'Europe/Berlin',
      SPOTTER_JOBS_DOWNLOAD_CONCURRENCY: '9',
      SPOTTER_JOBS_CREDIT_TOP_UP_ATTEMPTS: '7',
    });
    expect(Object.keys(c.kinds)).toEqual(['sync', 'enrichment', 'write-back', 'credit-top-up', 'download']);
    expect(c.kinds['credit-top-up']).toMatchObject({ scope: 'global', queue: 'credit-top-up', attempts: 7, concurrency: 1 });
    expect(c.kinds['credit-top-up']?.schedule?.interval).toEqual({ pattern: '0 0 1 * *' });
    expect(c.kinds.download).toMatchObject({ scope: 'item', concurrency: 9, timeoutMs: 30_000, schedule: undefined });
  });

  it('leaves the Spotter kinds out of a module that exports `jobs` and not their functions', async () => {
    const path = moduleFile(`export const jobs = { cleanup: { scope: 'global', schedule: '24h', run: async () => null } };`);
    const c = await loadSettings({ SPOTTER_JOBS_HANDLERS: path });
    expect(Object.keys(c.kinds)).toEqual(['cleanup']);
  });

  it('reads extra kinds from a YAML catalog file in HTTP mode', async () => {
    const file = join(dir, 'catalog.yaml');
    writeFileSync(
      file,
      'jobs:\n  cleanup:\n    scope: global\n    schedule: "0 0 * * *"\n  download:\n    scope: item\n    concurrency: 3\n',
    );
    const c = await loadSettings({ SPOTTER_URL: 'http://127.0.0.1:1', SPOTTER_JOBS_CATALOG: file });
    expect(Object.keys(c.kinds)).toEqual(['sync', 'enrichment', 'write-back', 'cleanup', 'download']);
    expect(c.kinds.download?.concurrency).toBe(3);
  });

  const legacy =
    'export const listUsers = []; export const sync = async () => null, enrichment = async () => null, writeback = async () => null;';
  it.each([
    ['an unknown scope', `{ mail: { scope: 'tenant', run: async () => null } }`, /kind "mail" field "scope".*user, global, item/],
    ['a bad schedule', `{ mail: { scope: 'global', schedule: '1 day', run: async () => null } }`, /kind "mail" field "schedule".*"1 day"/],
    [
      'a schedule object without a next function',
      `{ mail: { scope: 'global', schedule: { next: 5 }, run: async () => null } }`,
      /kind "mail" field "schedule".*an object with a next\(after\) function/,
    ],
    ['a bad name', `{ Mail_Out: { scope: 'global', run: async () => null } }`, /kind "Mail_Out".*a kind name of a-z/],
    ['a duplicate name', `{ sync: { scope: 'user', run: async () => null } }`, /kind "sync".*duplicate kind/],
    ['a reserved name', `{ 'dead-letter': { scope: 'item', run: async () => null } }`, /kind "dead-letter".*the service's own queues/],
    [
      'a follow-up to an unknown kind',
      `{ a: { scope: 'global', followUps: ['nope'], run: async () => null } }`,
      /kind "a" field "followUps".*"nope"/,
    ],
    [
      'an item kind with a schedule',
      `{ a: { scope: 'item', schedule: '5m', run: async () => null } }`,
      /kind "a" field "schedule".*item kinds are added/,
    ],
    ['a kind without run', `{ a: { scope: 'global' } }`, /kind "a" field "run".*the handler function/],
    ['an unknown field', `{ a: { scope: 'global', concurency: 3, run: async () => null } }`, /kind "a" field "concurency".*a known field/],
    [
      'a bad concurrency',
      `{ a: { scope: 'item', concurrency: 0, run: async () => null } }`,
      /kind "a" field "concurrency".*whole number from 1/,
    ],
    ['a bad JSON Schema', `{ a: { scope: 'item', schema: { type: 'bogus' }, run: async () => null } }`, /kind "a" field "schema"/],
  ])('refuses %s, naming the kind and the field', async (_what, jobs, message) => {
    const err = await catalogError({ SPOTTER_JOBS_HANDLERS: moduleFile(`${legacy}\nexport const jobs = ${jobs};`) });
    expect(err.message).toMatch(message);
  });

  it('refuses a bad per-kind variable naming it', async () => {
    const path = moduleFile(`${legacy}\nexport const jobs = { mail: { scope: 'item', run: async () => null } };`);
    const err = await catalogError({ SPOTTER_JOBS_HANDLERS: path, SPOTTER_JOBS_MAIL_CONCURRENCY: 'lots' });
    expect(err.variable).toBe('SPOTTER_JOBS_MAIL_CONCURRENCY');
    expect(err.message).toContain('"lots"');
  });

  it('refuses a catalog file outside HTTP mode, and a run in one', async () => {
    const file = join(dir, 'with-run.yaml');
    writeFileSync(file, 'jobs:\n  a:\n    scope: global\n');
    expect((await catalogError({ SPOTTER_JOBS_CATALOG: file })).message).toMatch(/only with SPOTTER_URL/);
    writeFileSync(file, 'jobs:\n  a:\n    scope: global\n    run: x\n');
    expect((await catalogError({ SPOTTER_URL: 'http://127.0.0.1:1', SPOTTER_JOBS_CATALOG: file })).message).toMatch(/field "run".*no run/);
  });

  it('stops a worker that would consume a kind with no handler: exit 78 naming the kind', async () => {
    const path = moduleFile(`export const listUsers = []; export const sync = async () => null;`);
    const r = await runCli(['worker', '--queues', 'enrichment'], { SPOTTER_JOBS_HANDLERS: path, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/enrichment\(userId, ctx\).*kind enrichment/);
  });

  it('stops start-up on a bad catalog with exit 78 naming the kind and field', async () => {
    const path = moduleFile(`${legacy}\nexport const jobs = { mail: { scope: 'tenant', run: async () => null } };`);
    const r = await runCli(['status'], { SPOTTER_JOBS_HANDLERS: path });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/configuration error: .*kind "mail" field "scope"/);
  });

  it('keeps loadCatalog and loadConfig in agreement for the default catalog', async () => {
    expect(Object.keys(await loadCatalog({}))).toEqual(Object.keys(BUILTIN_KINDS));
  });
});

describe('catalog shapes that once slipped through', () => {
  const legacy = 'export const listUsers = []; export const sync = async () => null;';
  const yamlFile = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return { SPOTTER_URL: 'http://127.0.0.1:1', SPOTTER_JOBS_CATALOG: file };
  };

  it.each([
    ['YAML', 'jobs:\n  __proto__:\n    scope: global\n  other:\n    scope: item\n'],
    ['JSON', '{"jobs": {"__proto__": {"scope": "global"}, "other": {"scope": "item"}}}'],
  ])('refuses a kind named __proto__ in a %s catalog instead of dropping it', async (_format, text) => {
    const err = await catalogError(yamlFile(`proto-${_format}.yaml`, text));
    expect(err.message).toMatch(/kind "__proto__".*a kind name of a-z/);
  });

  it('refuses a kind named __proto__ in a module', async () => {
    const err = await catalogError({
      SPOTTER_JOBS_HANDLERS: moduleFile(`${legacy}\nexport const jobs = { __proto__: { scope: 'global', run: async () => null } };`),
    });
    expect(err.message).toMatch(/kind "__proto__".*a kind name of a-z/);
  });

  it('refuses a kind declared as null, naming it (exit 78, not a crash)', async () => {
    const env = yamlFile('null-kind.yaml', 'jobs:\n  one: null\n');
    expect((await catalogError(env)).message).toMatch(/kind "one".*an object with at least a scope/);
    const r = await runCli(['status'], env);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/kind "one"/);
  });

  it('refuses two kinds whose variables would be the same, naming both', async () => {
    const err = await catalogError(yamlFile('clash.yaml', 'jobs:\n  report:\n    scope: global\n  report-global:\n    scope: global\n'));
    expect(err.message).toMatch(/SPOTTER_JOBS_REPORT_GLOBAL_CONCURRENCY/);
    expect(err.message).toMatch(/"report-global"/);
    expect(err.message).toMatch(/"report"/);
  });

  it("refuses a kind whose variable is one of the service's own", async () => {
    const err = await catalogError(yamlFile('own.yaml', 'jobs:\n  shutdown:\n    scope: global\n'));
    expect(err.message).toMatch(/kind "shutdown".*SPOTTER_JOBS_SHUTDOWN_TIMEOUT/);
  });
});

describe('one place decides what kinds exist', () => {
  const SRC = resolve(import.meta.dirname, '../src');
  const files = (d: string): string[] =>
    readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : f.endsWith('.ts') ? [join(d, f)] : []));
  const names = Object.entries(BUILTIN_KINDS).flatMap(([name, k]) =>
    [name, k.queue, k.scheduleVar, k.enabledVar, envStemOf(name, k)].filter(Boolean),
  ) as string[];

  it('spells no kind name, queue or kind variable anywhere in src/ but the catalog', () => {
    expect(names).toContain('write-back');
    const offenders: string[] = [];
    for (const f of files(SRC)) {
      if (f.endsWith('/config/catalog.ts')) continue;
      // Comments may mention the Spotter kinds; code may not.
      const code = readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
      for (const name of names) {
        const quoted = new RegExp(`['"\`]${name}['"\`]|\\.${name.replace('-', '\\-')}\\b(?!\\s*:)|\\b${name}_`, 'g');
        const words = /^[A-Z_]+$/.test(name) ? new RegExp(`(^|[^A-Z])${name}([^A-Z]|$)`, 'gm') : quoted;
        for (const m of code.matchAll(words)) offenders.push(`${f.slice(SRC.length + 1)}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
