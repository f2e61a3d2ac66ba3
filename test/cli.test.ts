import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../src/jobs/errors.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { newPrefix, testEnv } from './helpers/redis.js';
import { CLI, runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});

describe('the CLI, run as a user runs it', () => {
  it.each([
    [['--help'], 'Commands:'],
    [['producer', '--help'], 'SPOTTER_SYNC_INTERVAL'],
    [['worker', '--help'], 'SPOTTER_JOBS_SYNC_CONCURRENCY'],
    // Every kind's own variables, fair admission's among them, not only the table's three kinds.
    [['worker', '--help'], 'OWNER_CONCURRENCY'],
    [['all', '--help'], 'SPOTTER_PLAYLIST_SYNC_SYNC_INTERVAL'],
    [['status', '--help'], 'REDIS_URL'],
    [['trigger', '--help'], 'REDIS_URL'],
    [['dlq', 'list', '--help'], 'REDIS_URL'],
  ])('%j prints help with the environment variables it reads', async (args, text) => {
    const r = await runCli(args, {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(text);
    if (args.length > 1) expect(r.stdout).toContain('Environment variables:');
  });

  it('exits 78 on bad configuration, naming the variable, the value and the accepted form', async () => {
    const r = await runCli(['status'], { SPOTTER_SYNC_INTERVAL: '5 minutes' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('SPOTTER_SYNC_INTERVAL="5 minutes" is invalid; expected a Go duration');
  });

  it.each([
    [['frobnicate']],
    [['status', '--bogus']],
    [['trigger']],
    [['trigger', 'nope']],
    [['worker', '--queues', 'sync,mail']],
    [['dlq', 'replay']],
  ])('exits 2 on a bad command line: %j', async (args) => {
    const r = await runCli(args, testEnv('cli-unused'));
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
  });

  it('exits quietly when its reader closes the pipe early (status | head)', async () => {
    const x = await harness();
    open.push(x);
    const child = spawn(process.execPath, [CLI, 'status'], {
      env: { PATH: process.env.PATH ?? '', ...testEnv(x.prefix) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  it('writes no key for a command that only reads, so a mistyped prefix leaves nothing behind', async () => {
    const x = await harness();
    open.push(x);
    const elsewhere = newPrefix();
    for (const args of [['status'], ['user', 'bob'], ['dlq', 'list'], ['owner', 'weight', 'bob']]) {
      const r = await runCli(args, testEnv(elsewhere));
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(await x.conn.keys(`${elsewhere}*`)).toEqual([]);
  });

  it('fails fast with exit 1 and a clear message when Redis is down', async () => {
    // Port 1: nothing listens there, and no test's Redis can take it (theirs come from the ephemeral range).
    // Exit 1 is the CLI giving up by itself: runCli kills a command that keeps retrying (exit code null).
    for (const cmd of [['status'], ['producer']]) {
      const r = await runCli(cmd, { REDIS_URL: 'redis://:hunter2hunter2@127.0.0.1:1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Redis at redis://:***@127.0.0.1:1 is not reachable (connect ECONNREFUSED');
      expect(r.stderr).not.toContain('hunter2hunter2');
    }
  });

  it('status --json shows schedules and counts; trigger adds a tick or one user job', async () => {
    const x = await harness();
    open.push(x);
    await reconcileAsProducer(x);
    const env = testEnv(x.prefix);
    const tick = await runCli(['trigger', 'sync', '--json'], env);
    expect(tick.code).toBe(0);
    expect(JSON.parse(tick.stdout)).toMatchObject({ kind: 'tick', queue: 'schedules' });
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const user = await runCli(['trigger', 'write-back', '--user', '42', '--at', at, '--json'], env);
    expect(user.code).toBe(0);
    const t = JSON.parse(user.stdout);
    expect(t).toMatchObject({ kind: 'user', queue: 'writeback', runAt: at });
    const job = await x.queues.get('writeback').getJob(t.jobId);
    expect(job?.data.userId).toBe('42');
    expect(await job?.getState()).toBe('delayed');
    const s = await runCli(['status', '--json'], env);
    expect(s.code).toBe(0);
    const status = JSON.parse(s.stdout);
    expect(status.schedules.map((x: { name: string }) => x.name)).toEqual(['sync', 'enrichment', 'write-back']);
    expect(status.queues.writeback.delayed).toBe(1);
    // The manual tick, and sync's first tick (an interval without offset ticks at once).
    expect(status.queues.schedules.waiting).toBe(2);
    expect(status.deadLetters).toBe(0);
    const text = await runCli(['status'], env);
    expect(text.stdout).toMatch(/write-back\s+writeback\s+yes\s+1h/);
    expect((await runCli(['trigger', 'sync', '--at', 'tomorrow'], env)).code).toBe(2);
    const badUser = await runCli(['trigger', 'sync', '--user', 'a b'], env);
    expect(badUser.code).toBe(2);
    expect(badUser.stderr).toContain('--user "a b" is not a user id: it holds other than letters, digits and . _ @ -');
    const longOwner = await runCli(['trigger', 'sync', '--owner', 'o'.repeat(201)], env);
    expect(longOwner.code).toBe(2);
    expect(longOwner.stderr).toContain('(201 characters) is not an owner id: it is longer than 200 characters');
  });

  it('dlq list, replay and purge', async () => {
    const x = await harness({ SPOTTER_JOBS_ATTEMPTS: '1' });
    open.push(x);
    const consumers = new Consumers(
      {
        ...x,
        handlers: testHandlers([], async (u) => {
          throw new PermanentError(`<b>bad</b> ${u}`);
        }),
      },
      kinds(x.config, 'sync', 'enrichment'),
    );
    consumers.start();
    for (const [q, u] of [
      ['sync', 'a'],
      ['sync', 'b'],
      ['enrichment', 'c'],
    ] as const) {
      await x.queues.get(q).add('user', { userId: u, scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, q), jobId: `t__${u}` });
    }
    await waitFor('three dead letters', async () => (await x.deadLetters.count()) === 3);
    await consumers.close();
    const env = testEnv(x.prefix);
    const list = await runCli(['dlq', 'list', '--queue', 'sync', '--json'], env);
    expect(list.code).toBe(0);
    expect(
      JSON.parse(list.stdout)
        .map((d: { id: string }) => d.id)
        .sort(),
    ).toEqual(['sync__t__a', 'sync__t__b']);
    const table = await runCli(['dlq', 'list'], env);
    expect(table.stdout).toContain('permanent: <b>bad</b> c');
    const one = await runCli(['dlq', 'replay', 'sync__t__a'], env);
    expect(one.stdout).toContain('replayed 1');
    expect(await x.queues.get('sync').getJob('t__a__replay')).toBeTruthy();
    const missing = await runCli(['dlq', 'replay', 'nope'], env);
    expect(missing.code).toBe(2);
    const purge = await runCli(['dlq', 'purge', '--queue', 'enrichment', '--json'], env);
    expect(JSON.parse(purge.stdout)).toEqual({ purged: 1 });
    const young = await runCli(['dlq', 'purge', '--older-than', '1h'], env);
    expect(young.stdout).toContain('purged 0');
    expect((await runCli(['dlq', 'purge', '--older-than', '7d'], env)).code).toBe(2);
    expect(await x.deadLetters.count()).toBe(1);
  });
});
