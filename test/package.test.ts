/**
 * The packed package works outside the clone: `npm pack` (from sources not yet built), then in an
 * empty folder install the file,
 * run `npx spotter-jobs`, and import the errors a handler module throws. The install runs offline:
 * the consumer gets a lockfile holding the repository's own locked versions of exactly what the
 * package's dependencies reach, so npm takes every tarball from the cache `npm ci` filled and a
 * dependency missing from the package's `dependencies` is missing in the folder too.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, newPrefix, redisUrl, testRedis } from './helpers/redis.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** npm and node without what `npm test` sets for the repository (its prefix, its scripts); the cache and registry stay. */
const env = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => (!/^npm_/i.test(k) || /^npm_config_(cache|registry)$/i.test(k)) && !k.startsWith('SPOTTER_') && k !== 'REDIS_URL',
    ),
  );

type LockEntry = {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
};

/**
 * The entries of the repository's lockfile that `deps` reach, found as Node finds a module: the
 * nearest `node_modules/<name>` from the requiring package up to the root.
 */
function reachable(lock: Record<string, LockEntry>, deps: Record<string, string>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const find = (from: string, name: string): string | undefined => {
    for (let at = from; ; at = at.slice(0, Math.max(0, at.lastIndexOf('/node_modules/')))) {
      const path = at ? `${at}/node_modules/${name}` : `node_modules/${name}`;
      if (lock[path]) return path;
      if (!at) return undefined;
    }
  };
  const queue: Array<[string, string, boolean]> = Object.keys(deps).map((n) => ['', n, false]);
  while (queue.length > 0) {
    const [from, name, optional] = queue.shift() as [string, string, boolean];
    const path = find(from, name);
    if (!path) {
      if (optional) continue;
      throw new Error(`the repository's lockfile has no ${name} (needed by ${from || 'spotter-jobs'})`);
    }
    if (out[path]) continue;
    const entry = lock[path] as LockEntry;
    out[path] = entry;
    for (const n of Object.keys(entry.dependencies ?? {})) queue.push([path, n, false]);
    for (const n of Object.keys(entry.optionalDependencies ?? {})) queue.push([path, n, true]);
    for (const n of Object.keys(entry.peerDependencies ?? {})) {
      if (!entry.peerDependenciesMeta?.[n]?.optional) queue.push([path, n, true]);
    }
  }
  return out;
}

/** `npm pack` in a copy of the sources without dist, as in a fresh clone after `npm ci`; returns the file's name. */
async function packFreshClone(): Promise<string> {
  // The package must build itself. (Building in the repository would rewrite the dist other test files run.)
  const clone = join(dir, 'clone');
  mkdirSync(clone);
  for (const f of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) {
    cpSync(join(ROOT, f), join(clone, f), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: clone, env: env(), timeout: 120_000 });
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: Array<{ path: string; mode: number }> }];
  const paths = files.map((f) => f.path);
  expect(paths).toContain('dist/cli.js');
  expect(paths).toContain('dist/index.js');
  expect(paths).toContain('dist/index.d.ts');
  expect(paths).toContain('dist/redis/scripts/exclusive-acquire.lua');
  expect(paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p))).toEqual([]);
  return filename;
}

/** An empty folder with the packed file installed, offline, from the cache `npm ci` filled. */
async function installInEmptyFolder(filename: string): Promise<string> {
  const tarball = join(dir, filename);
  const manifest = JSON.parse((await run('tar', ['-xzf', tarball, '-O', 'package/package.json'])).stdout);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<string, LockEntry>;
  const app = join(dir, 'app');
  const self: LockEntry = {
    version: manifest.version,
    resolved: `file:../${filename}`,
    dependencies: manifest.dependencies,
    bin: manifest.bin,
    license: manifest.license,
  };
  const pkg = { name: 'app', version: '1.0.0', private: true, dependencies: { 'spotter-jobs': `file:../${filename}` } };
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': pkg, 'node_modules/spotter-jobs': self, ...reachable(lock, manifest.dependencies) },
    }),
  );
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, env: env(), timeout: 180_000 });
  return app;
}

describe('the packed package', () => {
  it('installs offline in an empty folder; npx spotter-jobs and import from spotter-jobs work there', async () => {
    const app = await installInEmptyFolder(await packFreshClone());

    const help = await run('npx', ['--no-install', 'spotter-jobs', '--help'], { cwd: app, env: env(), timeout: 30_000 });
    expect(help.stdout).toMatch(/^Usage: spotter-jobs/m);
    expect(help.stdout).toMatch(/status/);

    const imported = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { PermanentError, RetryAfterError } from 'spotter-jobs'; const e = new PermanentError('gone'); console.log(JSON.stringify([e instanceof Error, e.name, typeof RetryAfterError]));",
      ],
      { cwd: app, env: env() },
    );
    expect(JSON.parse(imported.stdout)).toEqual([true, 'PermanentError', 'function']);

    // And a command that does its work: `status` from this folder against Redis.
    const prefix = newPrefix();
    const conn = testRedis();
    try {
      const status = await run('npx', ['--no-install', 'spotter-jobs', 'status', '--json'], {
        cwd: app,
        env: { ...env(), REDIS_URL: redisUrl(), SPOTTER_JOBS_PREFIX: prefix },
        timeout: 30_000,
      });
      expect(JSON.parse(status.stdout).schedules.map((s: { name: string }) => s.name)).toEqual(['sync', 'enrichment', 'write-back']);
    } finally {
      await deletePrefix(conn, prefix);
      conn.disconnect();
    }
  }, 240_000);
});
