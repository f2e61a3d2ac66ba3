/**
 * `npm start` on a bare machine: no REDIS_URL and nothing on 127.0.0.1:6379. This machine does run a
 * Redis there, so the test runs the service in a fresh network namespace (unshare -n), where loopback
 * is empty, exactly like a laptop without Redis.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

// Resolved once with the full PATH, since one test runs the service with an empty PATH.
const which = (cmd: string) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`])
    .stdout.toString()
    .trim();
const UNSHARE = which('unshare');
const SH = which('sh');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function inEmptyNetwork(cwd: string, env: Record<string, string>) {
  const child = spawn(UNSHARE, ['-n', SH, '-c', `/usr/sbin/ip link set lo up && exec "${process.execPath}" "${CLI}" all`], {
    cwd,
    env: { HOME: process.env.HOME ?? '/', SPOTTER_JOBS_BACKOFF: '100ms', SPOTTER_JOBS_DEMO_FAILURE_RATE: '0.2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => out };
}

// The namespace needs unshare (util-linux) and root or user namespaces; CI runs as root on Linux.
describe('npm start with no configuration at all', () => {
  it('starts a private redis-server under .data/, runs the demo, and stops cleanly on Ctrl-C', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'spotter-jobs-start-'));
    dirs.push(cwd);
    const p = inEmptyNetwork(cwd, { PATH: process.env.PATH ?? '' });
    try {
      await waitFor('private redis announced', () => p.out().includes('started a private redis-server'), { timeoutMs: 20_000 });
      await waitFor('a tick fanned out to the 25 demo users', () => p.out().includes('"users":25,"added":25'), { timeoutMs: 20_000 });
      await waitFor('jobs completing', () => (p.out().match(/"job completed"/g) ?? []).length >= 5, { timeoutMs: 20_000 });
      p.child.kill('SIGINT');
      expect(await p.exited).toBe(0);
      expect(p.out()).toContain('shut down cleanly');
      expect(existsSync(join(cwd, '.data/redis'))).toBe(true);
      expect(readdirSync(join(cwd, '.data/redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('explains how to get Redis when there is no redis-server binary', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'spotter-jobs-start-'));
    dirs.push(cwd);
    const p = inEmptyNetwork(cwd, { PATH: join(cwd, 'empty-bin') });
    expect(await p.exited).toBe(1);
    expect(p.out()).toContain('apt-get install -y redis-server');
    expect(p.out()).toContain('REDIS_URL');
  });
});
