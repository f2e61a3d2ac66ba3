/**
 * One truth (issue "what Redis holds, what the board changes and what status says must agree"): each
 * test reproduces a place where two of them told different stories.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/handlers/types.js';
import { PermanentError } from '../src/jobs/errors.js';
import { coalesceId } from '../src/jobs/registry.js';
import { applyGlobalLimits } from '../src/producers/main.js';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { lastTick } from '../src/schedules/tick-record.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { capturingLogger, type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { testEnv } from './helpers/redis.js';
import { runCli, startCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';
import { serveApp } from './helpers/web.js';

const open: Array<{ dispose(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.dispose();
});

async function h(env: Record<string, string> = {}, opts: Parameters<typeof harness>[1] = {}): Promise<Harness> {
  const x = await harness(env, opts);
  open.push(x);
  return x;
}

function consume(x: Harness, run: Handler, names: string[] = ['sync']) {
  const c = new Consumers({ ...x, handlers: testHandlers([], run) }, kinds(x.config, ...names));
  c.start();
  open.push({ dispose: () => c.close() });
  return c;
}

const addUserJob = (x: Harness, userId: string, queue = 'sync') =>
  x.queues.get(queue).add('user', { userId, scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, queue), jobId: `t__${userId}` });

describe('1. schedule drift', () => {
  it('refuses scheduler edits on the board, and reconciliation repairs edits made elsewhere', async () => {
    const { log, lines } = capturingLogger('warn');
    const x = await h({}, { log });
    await reconcileAsProducer(x);
    const web = await serveApp(x);
    const patch = await fetch(`${web.url}/board/api/queues/schedules/job-schedulers/sync`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ every: 3_600_000 }),
    });
    expect(patch.status).toBe(403);
    expect((await x.queues.schedules().getJobScheduler('sync'))?.every).toBe(300_000);
    // The same edit through BullMQ itself (redis-cli, another tool): the fingerprint still matches.
    const cur = await x.queues.schedules().getJobScheduler('sync');
    await x.queues
      .schedules()
      .upsertJobScheduler('sync', { every: 3_600_000 }, { name: 'tick', data: cur?.template?.data, opts: cur?.template?.opts });
    const r = await reconcileAsProducer(x);
    expect(r.repaired).toEqual(['sync']);
    expect(r.unchanged.sort()).toEqual(['enrichment', 'write-back']);
    expect((await x.queues.schedules().getJobScheduler('sync'))?.every).toBe(300_000);
    expect(lines.find((l) => String(l.msg).includes('drifted'))).toMatchObject({ schedule: 'sync', changes: ['every 3600000 -> 300000'] });
  });
});

describe('2. status reads Redis, not the caller environment', () => {
  it('shows what the producer runs to a CLI started with only REDIS_URL', async () => {
    const x = await h({ SPOTTER_SYNC_INTERVAL: '1h', SPOTTER_METADATA_ENABLED: 'false', SPOTTER_JOBS_WRITEBACK_ENABLED: 'false' });
    await reconcileAsProducer(x);
    const s = await runCli(['status', '--json'], { REDIS_URL: testEnv(x.prefix).REDIS_URL as string, SPOTTER_JOBS_PREFIX: x.prefix });
    expect(s.code, s.stderr).toBe(0);
    const rows = (JSON.parse(s.stdout) as { schedules: Array<{ name: string; enabled: boolean; interval: string }>; catalog: string })
      .schedules;
    expect(rows.map((r) => [r.name, r.enabled, r.interval])).toEqual([
      ['sync', true, '1h'],
      ['enrichment', false, '1h'],
      ['write-back', false, '1h'],
    ]);
    const text = await runCli(['status'], { REDIS_URL: testEnv(x.prefix).REDIS_URL as string, SPOTTER_JOBS_PREFIX: x.prefix });
    expect(text.stdout).toMatch(/sync\s+sync\s+yes\s+1h/);
    expect(text.stdout).toMatch(/enrichment\s+enrichment\s+no/);
  });
});

describe('3. a dead letter deleted on the board', () => {
  it('stays deleted: the sweep knows it was recorded', async () => {
    const x = await h({ SPOTTER_JOBS_ATTEMPTS: '1' });
    consume(x, async () => {
      throw new PermanentError('gone');
    });
    await addUserJob(x, 'd1');
    await waitFor('dead letter', async () => (await x.deadLetters.count()) === 1);
    const web = await serveApp(x);
    const clean = await fetch(`${web.url}/board/api/queues/dead-letter/sync__t__d1/clean`, { method: 'PUT' });
    expect(clean.status).toBe(204);
    expect(await x.deadLetters.count()).toBe(0);
    expect(await x.deadLetters.sweep(0)).toBe(0);
    expect(await x.deadLetters.count()).toBe(0);
  });
});

describe('4. a failed job retried on the board', () => {
  it('retires its dead letter, and a replay does not run it again', async () => {
    const x = await h({ SPOTTER_JOBS_ATTEMPTS: '1' });
    let healthy = false;
    const runs: string[] = [];
    consume(x, async (_u, ctx) => {
      runs.push(ctx.jobId);
      if (!healthy) throw new PermanentError('down');
      return null;
    });
    await addUserJob(x, 'r1');
    await addUserJob(x, 'r2');
    await waitFor('dead letters', async () => (await x.deadLetters.count()) === 2);
    healthy = true;
    const web = await serveApp(x);
    for (const id of ['t__r1', 't__r2'])
      expect((await fetch(`${web.url}/board/api/queues/sync/${id}/retry`, { method: 'PUT' })).status).toBe(204);
    await waitFor('both retried and done', async () => (await x.queues.get('sync').getCompletedCount()) === 2);
    // A replay asked for before retention ran: no second run.
    const r = await x.deadLetters.replay({ ids: ['sync__t__r1'] });
    expect(r).toEqual({ replayed: [], missing: [], settled: ['sync__t__r1'] });
    // The other is retired by the next retention round.
    expect(await x.deadLetters.retireSettled()).toBe(1);
    expect(await x.deadLetters.count()).toBe(0);
    expect(runs.filter((j) => j === 't__r1')).toHaveLength(2);
    expect(await x.queues.get('sync').getJob('t__r1__replay')).toBeUndefined();
  });
});

describe('5. one user, one job at a time, whoever adds it', () => {
  it('coalesces trigger --user and a replay into the user job that has not started', async () => {
    const x = await h({ SPOTTER_JOBS_ATTEMPTS: '1' });
    // A job of user u1 waits (no worker yet).
    const waiting = await x.queues
      .get('sync')
      .add(
        'user',
        { userId: 'u1', scheduledFor: 1, tick: 'tick1' },
        { ...optionsFor(x.config, 'sync'), jobId: 'tick1__u1', deduplication: { id: coalesceId('u1'), keepLastIfActive: true } },
      );
    const t = await runCli(['trigger', 'sync', '--user', 'u1', '--json'], testEnv(x.prefix));
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ jobId: waiting.id, coalesced: true });
    expect(await x.queues.get('sync').getWaitingCount()).toBe(1);
    const said = await runCli(['trigger', 'sync', '--user', 'u1'], testEnv(x.prefix));
    expect(said.stdout).toMatch(/coalesced into it/);

    // A dead letter of u2, replayed while u2 has a job waiting: merged into it, not a second job.
    const c = consume(x, async () => {
      throw new PermanentError('broken');
    });
    await addUserJob(x, 'u2');
    await waitFor('u2 dead-lettered', async () => (await x.deadLetters.list()).some((d) => d.id === 'sync__t__u2'));
    await c.close();
    await x.queues
      .get('sync')
      .add(
        'user',
        { userId: 'u2', scheduledFor: 2, tick: 'tick2' },
        { ...optionsFor(x.config, 'sync'), jobId: 'tick2__u2', deduplication: { id: coalesceId('u2'), keepLastIfActive: true } },
      );
    const r = await x.deadLetters.replay({ ids: ['sync__t__u2'] });
    expect(r.replayed).toEqual(['t__u2__replay']);
    expect(await x.queues.get('sync').getJob('t__u2__replay')).toBeUndefined();
    const u2 = (await x.queues.get('sync').getWaiting()).filter((j) => j.data.userId === 'u2');
    expect(u2.map((j) => j.id)).toEqual(['tick2__u2']);
  });
});

describe('6. the cluster-wide cap has one owner: the producer', () => {
  it('survives a worker restart and a producer restart, and only the producer help lists it', async () => {
    const x = await h({ SPOTTER_JOBS_SYNC_GLOBAL_CONCURRENCY: '3' });
    await applyGlobalLimits(x);
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    // A worker, started with no such variable, leaves the cap alone.
    const w = await harness({}, { prefix: x.prefix });
    const { startWorker } = await import('../src/workers/main.js');
    await startWorker(w, kinds(w.config, 'sync'), { handlers: testHandlers([]), retention: false });
    await w.lifecycle.shutdown();
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    // A producer restarted with the same configuration keeps it.
    await applyGlobalLimits(x);
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    const help = await runCli(['worker', '--help'], {});
    expect(help.stdout).not.toContain('GLOBAL_CONCURRENCY');
    expect((await runCli(['producer', '--help'], {})).stdout).toContain('SPOTTER_JOBS_SYNC_GLOBAL_CONCURRENCY');
  });
});

describe('7. a tick that fails before its fan-out', () => {
  it('is logged and recorded', async () => {
    const { log, lines } = capturingLogger('info');
    const x = await h({}, { log });
    const ticks = new TickConsumer({ ...x, handlers: testHandlers([]) });
    const job = await x.queues.schedules().add('tick', { schedule: 'nope' }, { jobId: 'manual_nope_1' });
    await expect(ticks.process(job)).rejects.toThrow(/"nope", which is no user or global kind/);
    expect(await lastTick(x.conn, x.prefix, 'nope')).toMatchObject({ result: 'failed', tickId: 'manual_nope_1' });
    expect(lines.find((l) => l.msg === 'tick nope failed')).toBeTruthy();
  });
});

describe('8. a dead letter records its first attempt', () => {
  it('keeps the first start, though BullMQ overwrites processedOn on every attempt', async () => {
    const x = await h({ SPOTTER_JOBS_ATTEMPTS: '3', SPOTTER_JOBS_BACKOFF: '150ms' });
    const starts: number[] = [];
    consume(x, async () => {
      starts.push(Date.now());
      throw new Error('flaky');
    });
    await addUserJob(x, 'f1');
    const [d] = await waitFor('dead letter', async () => {
      const l = await x.deadLetters.list();
      return l.length > 0 ? l : undefined;
    });
    expect(starts).toHaveLength(3);
    const job = await x.queues.get('sync').getJob('t__f1');
    expect(d?.firstAttemptAt).toBeLessThanOrEqual(starts[0] as number);
    expect(d?.firstAttemptAt).toBeGreaterThan((starts[0] as number) - 100);
    expect(d?.firstAttemptAt).toBeLessThan(job?.processedOn as number);
  });
});

describe('9. the README handler example, verbatim, outside the repository', () => {
  it('loads: `import { PermanentError } from "spotter-jobs"` resolves to the running service', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```js\n\s*\/\/ my-handlers\.mjs\n[\s\S]*?```/.exec(readme)?.[0] as string;
    expect(block).toContain("import { PermanentError } from 'spotter-jobs'");
    const code = block
      .split('\n')
      .slice(1, -1)
      .map((l) => l.replace(/^ {3}/, ''))
      .join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-outside-'));
    open.push({ dispose: async () => rmSync(dir, { recursive: true, force: true }) });
    writeFileSync(join(dir, 'my-handlers.mjs'), code);
    const x = await h();
    const env = { ...testEnv(x.prefix), SPOTTER_JOBS_HANDLERS: join(dir, 'my-handlers.mjs') };
    const s = await runCli(['status'], env);
    expect(s.code, s.stderr).toBe(0);
    const w = startCli(['worker'], { ...env, SPOTTER_JOBS_LOG_LEVEL: 'info' });
    open.push({ dispose: () => w.stop() });
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started with the README module');
  });
});

describe('10. first run: a fixed slot, or at boot plus the delay', () => {
  it('places a boot schedule its offset after creation, keeps it across restarts, and refuses it for cron', async () => {
    const before = Date.now();
    const x = await h({ SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot', SPOTTER_JOBS_WRITEBACK_FIRST_RUN: 'slot' });
    await reconcileAsProducer(x);
    const e = await x.queues.schedules().getJobScheduler('enrichment');
    expect(e?.next).toBeGreaterThanOrEqual(before + 30_000);
    expect(e?.next).toBeLessThanOrEqual(Date.now() + 30_000);
    // The slot mode, as before: one minute into the hour.
    expect(((await x.queues.schedules().getJobScheduler('write-back'))?.next as number) % 3_600_000).toBe(60_000);
    // A producer restart leaves the cadence where it is.
    const again = await reconcileAsProducer(x);
    expect(again.unchanged).toContain('enrichment');
    expect((await x.queues.schedules().getJobScheduler('enrichment'))?.next).toBe(e?.next);
    const bad = await runCli(['status'], { SPOTTER_METADATA_INTERVAL: '0 * * * *', SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot' });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/SPOTTER_JOBS_ENRICHMENT_FIRST_RUN="boot".*interval schedules/);
  });
});
