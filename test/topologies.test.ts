/**
 * Beyond one Redis: the whole flow on a real 3-master Redis Cluster, a forced Sentinel failover that
 * workers survive without restart, and the local stack launcher that mirrors docker-compose.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startStack } from '../src/dev/stack.js';
import { FIXTURE, readLedger } from './helpers/ledger.js';
import { newPrefix } from './helpers/redis.js';
import { type CliProcess, runCli, startCli } from './helpers/spawn-cli.js';
import { startCluster, startSentinels } from './helpers/topologies.js';
import { waitFor } from './helpers/wait-for.js';

const procs: CliProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  for (const c of cleanups.splice(0).reverse()) await c();
});

function ledgerFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-topo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'ledger.jsonl');
}

function start(args: string[], env: Record<string, string>): CliProcess {
  const p = startCli(args, env);
  procs.push(p);
  return p;
}

const ended = (ledger: string, pred: (userId: string) => boolean) => readLedger(ledger).filter((e) => e.event === 'end' && pred(e.userId));

describe('Redis Cluster', () => {
  it('refuses a prefix without a hash tag, naming the variable', async () => {
    const c = await startCluster();
    cleanups.push(() => c.dispose());
    const r = await runCli(['producer'], { REDIS_URL: c.url, SPOTTER_JOBS_PREFIX: 'spotter', SPOTTER_JOBS_HTTP_PORT: '0' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('SPOTTER_JOBS_PREFIX="spotter"');
    expect(r.stderr).toContain('hash-tagged');
  });

  it('runs schedules → fan-out → workers → dead letters on a 3-master cluster', async () => {
    const c = await startCluster();
    cleanups.push(() => c.dispose());
    const ledger = ledgerFile();
    const env = {
      REDIS_URL: c.url,
      SPOTTER_JOBS_PREFIX: `{${newPrefix()}}`,
      SPOTTER_JOBS_HANDLERS: FIXTURE,
      FIXTURE_LEDGER: ledger,
      FIXTURE_USER_IDS: Array.from({ length: 30 }, (_, i) => `u${i}`)
        .concat(['perm1'])
        .join(','),
      SPOTTER_JOBS_HTTP_PORT: '0',
      SPOTTER_JOBS_WORKER_HTTP_PORT: '0',
      SPOTTER_JOBS_LOG_LEVEL: 'info',
      SPOTTER_SYNC_INTERVAL: '2s',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    };
    const producer = start(['producer'], env);
    const worker = start(['worker'], env);
    await producer.waitForLog((l) => l.msg === 'producer started', 'producer started');
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    await producer.waitForLog((l) => l.msg === 'tick sync finished' && l.users === 31, 'a scheduled tick fanned out to 31 users', 30_000);
    await waitFor('30 users synced', () => new Set(ended(ledger, (u) => u.startsWith('u')).map((e) => e.userId)).size === 30, {
      timeoutMs: 30_000,
    });
    await waitFor('perm1 dead-lettered', async () => {
      const r = await runCli(['dlq', 'list', '--json'], env);
      return (
        r.code === 0 &&
        (JSON.parse(r.stdout) as Array<{ failedReason: string }>).some((d) => d.failedReason.includes('no such account: perm1'))
      );
    });
    const status = await runCli(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).schedules[0].lastRun.users).toBe(31);
    // A subject schedule on the cluster: made by the CLI, materialised by the producer, run once. Its
    // time leaves room for the CLI to start under load: a time already past is refused.
    const made = await runCli(
      ['schedule', 'add', 'sync', '--user', 'reminded', '--at', new Date(Date.now() + 10_000).toISOString(), '--json'],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    await waitFor('the scheduled run', () => ended(ledger, (u) => u === 'reminded').length === 1 || undefined, { timeoutMs: 30_000 });
  });
});

describe('Redis Sentinel', () => {
  it('workers consume again after a forced failover, without restart', async () => {
    const s = await startSentinels();
    cleanups.push(() => s.dispose());
    const ledger = ledgerFile();
    const env = {
      REDIS_URL: 'redis://ignored:6379',
      SPOTTER_JOBS_REDIS_SENTINELS: s.sentinelList,
      SPOTTER_JOBS_REDIS_SENTINEL_NAME: 'mymaster',
      SPOTTER_JOBS_PREFIX: newPrefix(),
      SPOTTER_JOBS_HANDLERS: FIXTURE,
      FIXTURE_LEDGER: ledger,
      SPOTTER_JOBS_WORKER_HTTP_PORT: '0',
      SPOTTER_JOBS_LOG_LEVEL: 'info',
    };
    const worker = start(['worker'], env);
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const trigger = async (user: string) => {
      const r = await runCli(['trigger', 'sync', '--user', user, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
    };
    await trigger('before');
    await waitFor('job before failover done', () => ended(ledger, (u) => u === 'before').length === 1);
    const oldMaster = s.masterPort();
    s.failover();
    await waitFor('replica promoted', () => s.masterPort() !== oldMaster && s.masterPort() > 0, { timeoutMs: 30_000 });
    await waitFor(
      'a job added after the failover is consumed by the same worker',
      async () => {
        if (ended(ledger, (u) => u === 'after').length > 0) return true;
        await trigger('after');
        return false;
      },
      { timeoutMs: 45_000, intervalMs: 2000 },
    );
    expect(worker.child.exitCode).toBeNull();
    expect(new Set(readLedger(ledger).map((e) => e.pid))).toEqual(new Set([worker.pid]));
  });
});

describe('npm run stack', () => {
  it('starts Redis with the compose flags, one producer and N workers, and stops them all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-stack-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ledger = join(dir, 'ledger.jsonl');
    const stack = await startStack({
      workers: 2,
      dataDir: dir,
      boardPort: 0,
      stdio: 'ignore',
      env: {
        SPOTTER_JOBS_HANDLERS: FIXTURE,
        FIXTURE_LEDGER: ledger,
        FIXTURE_USERS: '40',
        FIXTURE_WORK_MS: '50',
        SPOTTER_SYNC_INTERVAL: '1h',
        // Ticked by hand once both workers are ready: a scheduled first tick could be done by the
        // first worker before the second one is up.
        SPOTTER_JOBS_SYNC_ENABLED: 'false',
      },
    });
    cleanups.push(() => stack.stop());
    for (const w of stack.workers) {
      await waitFor(
        `${w.name} ready`,
        async () => (await fetch(`http://127.0.0.1:${w.port}/readyz`).catch(() => undefined))?.status === 200,
      );
    }
    const policy = await runCli(['status', '--json'], { REDIS_URL: stack.redisUrl });
    expect(policy.code).toBe(0);
    expect((await runCli(['trigger', 'sync'], { REDIS_URL: stack.redisUrl })).code).toBe(0);
    // Both workers share the tick's 40 jobs.
    await waitFor('40 jobs done', () => ended(ledger, () => true).length >= 40, { timeoutMs: 30_000 });
    expect(new Set(readLedger(ledger).map((e) => e.pid)).size).toBe(2);
    await stack.stop();
    expect(stack.producer.child.exitCode).toBe(0);
    for (const w of stack.workers) expect(w.child.exitCode).toBe(0);
  });
});
