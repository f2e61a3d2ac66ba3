/** What a process tells its user as it starts: Redis credentials refused, probes while it waits for Redis, where the stack's board is, readable logs at a terminal. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/redis/local.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { privateRedis } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const scene = useProcessScenes();

describe('Redis credentials and a waiting worker', () => {
  it('says authentication failed for a wrong Redis password, not "not reachable"', async () => {
    const r = await privateRedis({ appendonly: false, args: ['--requirepass', 'right-password'] });
    scene.onCleanup(() => r.dispose());
    const u = new URL(r.redis.url);
    u.password = 'wrong-password';
    const res = await runCli(['status'], { REDIS_URL: u.toString() });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/authentication failed/);
    expect(res.stderr).not.toMatch(/not reachable/);
    expect(res.stderr).not.toContain('wrong-password');
  });

  it('serves /livez (200) and /readyz (503) while a worker waits for Redis', async () => {
    const port = await freePort();
    const s = scene({ SPOTTER_JOBS_WORKER_HTTP_PORT: String(port) });
    // Port 1: nothing listens there, and no test's Redis can take it (theirs come from the ephemeral range).
    const w = s.start(['worker'], { REDIS_URL: 'redis://127.0.0.1:1' });
    await w.waitForLog((l) => l.msg === 'waiting for Redis', 'waiting for Redis');
    const live = await waitFor('livez', () => fetch(`http://127.0.0.1:${port}/livez`).catch(() => undefined));
    expect(live.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    w.kill('SIGTERM');
    await w.exited;
  });
});

describe('npm run stack honours SPOTTER_JOBS_HTTP_PORT', () => {
  it('puts the board on the documented variable, and --port still wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-stack-port-'));
    scene.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    for (const viaFlag of [false, true]) {
      const port = await freePort();
      const args = [resolve(import.meta.dirname, '../dist/dev/stack.js'), '--workers', '0', ...(viaFlag ? ['--port', String(port)] : [])];
      const child = spawn(process.execPath, args, {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', SPOTTER_JOBS_HTTP_PORT: String(viaFlag ? port + 1 : port), SPOTTER_JOBS_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (d) => {
        err += d;
      });
      const exited = new Promise((r) => child.on('exit', r));
      scene.onCleanup(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      });
      await waitFor('board url', () => err.includes('board at'), { timeoutMs: 20_000 });
      expect(err).toContain(`board at http://127.0.0.1:${port}`);
      await waitFor('board answers', async () => (await fetch(`http://127.0.0.1:${port}/livez`).catch(() => undefined))?.status === 200);
      child.kill('SIGINT');
      await exited;
    }
  });
});

describe('logs at a terminal', () => {
  it('are human-readable lines under a TTY, and JSON otherwise', async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: '' });
    const cli = resolve(import.meta.dirname, '../dist/cli.js');
    // `script` gives the child a pseudo-terminal as stdout, as a person's shell would.
    const child = spawn('script', ['-qfec', `${process.execPath} ${cli} producer`, '/dev/null'], {
      env: { ...s.env, PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    const exited = new Promise((r) => child.on('exit', r));
    scene.onCleanup(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    await waitFor('the producer started, readably', () => out.includes('producer started'), { timeoutMs: 20_000 });
    expect(out).toMatch(/INFO.*producer started/);
    expect(out.split(/\r?\n/).filter((l) => l.startsWith('{'))).toEqual([]);
    const piped = s.start(['producer']);
    await piped.waitForLog((l) => l.msg === 'producer started', 'JSON when piped');
  });
});
