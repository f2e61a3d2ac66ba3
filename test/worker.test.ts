import { UnrecoverableError } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/handlers/types.js';
import { PermanentError, RetryAfterError } from '../src/jobs/errors.js';
import { applyGlobalLimits } from '../src/producers/main.js';
import { DEAD_LETTERED_FIELD } from '../src/services/dead-letters/index.js';
import { Retention } from '../src/services/retention.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

const open: Array<{ dispose(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.dispose();
});

async function setup(run: Handler, env: Record<string, string> = {}) {
  const x = await harness({ SPOTTER_JOBS_ATTEMPTS: '3', SPOTTER_JOBS_BACKOFF: '20ms', ...env });
  open.push(x);
  const consumers = new Consumers({ ...x, handlers: testHandlers([], run) }, kinds(x.config, 'sync'));
  consumers.start();
  open.push({ dispose: () => consumers.close() });
  const add = (userId: unknown, jobId = `t__${String(userId)}`) =>
    x.queues.get('sync').add('user', { userId, scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, 'sync'), jobId });
  return { x, consumers, add };
}

describe('workers, retries and dead letters', () => {
  it('runs a job through the handler as (userId, ctx) with a stable jobId', async () => {
    const seen: unknown[] = [];
    const { x, add } = await setup(async (userId, ctx) => {
      seen.push({ userId, jobId: ctx.jobId, attempt: ctx.attempt, queue: ctx.queue, aborted: ctx.signal.aborted });
      return { done: userId };
    });
    await add('42');
    await waitFor('completed', async () => (await x.queues.get('sync').getCompletedCount()) === 1);
    expect(seen).toEqual([{ userId: '42', jobId: 't__42', attempt: 1, queue: 'sync', aborted: false }]);
    expect((await x.queues.get('sync').getJob('t__42'))?.returnvalue).toEqual({ done: '42' });
  });

  it('retries with backoff, then dead-letters with the whole history', async () => {
    const attempts: number[] = [];
    const { x, add } = await setup(async (_u, ctx) => {
      attempts.push(ctx.attempt);
      throw new Error(`provider down (attempt ${ctx.attempt})`);
    });
    await add('7');
    await waitFor('dead letter', async () => (await x.deadLetters.count()) === 1);
    expect(attempts).toEqual([1, 2, 3]);
    const [d] = await x.deadLetters.list();
    expect(d).toMatchObject({
      id: 'sync__t__7',
      sourceQueue: 'sync',
      sourceJobId: 't__7',
      name: 'user',
      data: { userId: '7', scheduledFor: 1, tick: 't' },
      attemptsMade: 3,
      failedReason: 'attempts exhausted (3/3): provider down (attempt 3)',
      replays: 0,
    });
    expect(d?.stacktrace.join('\n')).toContain('provider down');
    expect(d?.createdAt).toBeGreaterThan(0);
    expect(d?.failedAt).toBeGreaterThanOrEqual(d?.createdAt as number);
    expect(d?.deadLetteredAt).toBeGreaterThanOrEqual(d?.failedAt as number);
  });

  it('dead-letters a PermanentError at once, without retries', async () => {
    let runs = 0;
    const { x, add } = await setup(async () => {
      runs++;
      throw new PermanentError('account deleted');
    });
    await add('9');
    await waitFor('dead letter', async () => (await x.deadLetters.count()) === 1);
    expect(runs).toBe(1);
    const [d] = await x.deadLetters.list();
    expect(d?.failedReason).toBe('permanent: account deleted');
    expect(d?.attemptsMade).toBe(1);
  });

  it('dead-letters a job whose data does not validate, naming the field, and keeps running', async () => {
    const ran: string[] = [];
    const { x, add } = await setup(async (u) => {
      ran.push(u);
      return null;
    });
    await add(12345, 'bad-job');
    await add('fine');
    await waitFor(
      'dead letter and completion',
      async () => (await x.deadLetters.count()) === 1 && (await x.queues.get('sync').getCompletedCount()) === 1,
    );
    const [d] = await x.deadLetters.list();
    expect(d?.failedReason).toMatch(/^invalid job data: userId: /);
    expect(ran).toEqual(['fine']);
  });

  it('waits Retry-After before the next attempt', async () => {
    const times: number[] = [];
    const { x, add } = await setup(async () => {
      times.push(Date.now());
      if (times.length === 1) throw new RetryAfterError('429', 1200);
      return null;
    });
    await add('r');
    await waitFor('completed', async () => (await x.queues.get('sync').getCompletedCount()) === 1, { timeoutMs: 10_000 });
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(1150);
  });

  it('never runs more jobs at once than the per-process concurrency', async () => {
    let inflight = 0;
    let max = 0;
    const { x, add } = await setup(
      async () => {
        inflight++;
        max = Math.max(max, inflight);
        await new Promise((r) => setTimeout(r, 30));
        inflight--;
        return null;
      },
      { SPOTTER_JOBS_SYNC_CONCURRENCY: '4' },
    );
    await Promise.all(Array.from({ length: 40 }, (_, i) => add(`c${i}`)));
    await waitFor('all done', async () => (await x.queues.get('sync').getCompletedCount()) === 40);
    expect(max).toBe(4);
  });

  it('starts no more jobs per window than the rate limit allows', async () => {
    const starts: number[] = [];
    const { x, add } = await setup(
      async () => {
        starts.push(Date.now());
        return null;
      },
      { SPOTTER_JOBS_SYNC_RATE_LIMIT: '2/1s', SPOTTER_JOBS_SYNC_CONCURRENCY: '10' },
    );
    await Promise.all(Array.from({ length: 6 }, (_, i) => add(`r${i}`)));
    await waitFor('all done', async () => (await x.queues.get('sync').getCompletedCount()) === 6, { timeoutMs: 15_000 });
    // Any three consecutive starts span at least one window.
    for (let i = 2; i < starts.length; i++) expect((starts[i] as number) - (starts[i - 2] as number)).toBeGreaterThanOrEqual(950);
  });

  it('sets and clears the cluster-wide concurrency cap on the queue', async () => {
    const x = await harness({ SPOTTER_JOBS_SYNC_GLOBAL_CONCURRENCY: '3' });
    open.push(x);
    await applyGlobalLimits(x);
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    expect(await x.queues.get('enrichment').getGlobalConcurrency()).toBeNull();
  });

  it('records each dead letter once; the sweep finds a failed job whose dead letter was never written', async () => {
    const { x, add } = await setup(async () => {
      throw new PermanentError('nope');
    });
    await add('s1');
    await waitFor('dead letter', async () => (await x.deadLetters.count()) === 1);
    expect(await x.deadLetters.sweep(0)).toBe(0);
    const job = await x.queues.get('sync').getJob('t__s1');
    await x.deadLetters.record('sync', job as NonNullable<typeof job>);
    expect(await x.deadLetters.count()).toBe(1);
    // A worker killed between failing the job and writing its dead letter leaves exactly this state
    // (no entry, and no mark on the failed job, which is written after the entry):
    await (await x.queues.get('dead-letter').getJob('sync__t__s1'))?.remove();
    await x.conn.hdel(`${x.prefix}:sync:t__s1`, DEAD_LETTERED_FIELD);
    expect(await x.deadLetters.count()).toBe(0);
    expect(await x.deadLetters.sweep(0)).toBe(1);
    expect((await x.deadLetters.list())[0]?.failedReason).toBe('permanent: nope');
  });

  it('replays dead letters onto their source queue with fresh attempts', async () => {
    let healthy = false;
    const runs: Array<[string, number]> = [];
    const { x, add } = await setup(async (u, ctx) => {
      runs.push([ctx.jobId, ctx.attempt]);
      if (!healthy) throw new PermanentError(`broken ${u}`);
      return null;
    });
    await add('p1');
    await add('p2');
    await waitFor('dead letters', async () => (await x.deadLetters.count()) === 2);
    healthy = true;
    const r = await x.deadLetters.replay({ ids: ['sync__t__p1', 'nope'] });
    expect(r).toEqual({ replayed: ['t__p1__replay'], missing: ['nope'], settled: [], orphaned: [] });
    await waitFor('replayed job completed', async () => (await x.queues.get('sync').getCompletedCount()) === 1);
    expect(runs).toContainEqual(['t__p1__replay', 1]);
    expect(await x.deadLetters.count()).toBe(1);
    // The failed original is gone, so no sweep brings its dead letter back.
    expect(await x.queues.get('sync').getJob('t__p1')).toBeUndefined();
    expect(await x.deadLetters.sweep(0)).toBe(0);
    const all = await x.deadLetters.replay({ all: true });
    expect(all.replayed).toEqual(['t__p2__replay']);
    await waitFor('both completed', async () => (await x.queues.get('sync').getCompletedCount()) === 2);
    expect(await x.deadLetters.count()).toBe(0);
  });

  it('purges dead letters by source queue and by age', async () => {
    const x = await harness();
    open.push(x);
    const fake = (queue: 'sync' | 'enrichment', id: string, deadLetteredAt: number) =>
      x.queues.get('dead-letter').add(
        'dead-letter',
        {
          sourceQueue: queue,
          sourceJobId: id,
          name: 'user',
          data: {},
          attemptsMade: 1,
          failedReason: 'x',
          stacktrace: [],
          createdAt: 1,
          firstAttemptAt: 1,
          failedAt: 1,
          deadLetteredAt,
          replays: 0,
        },
        { jobId: `${queue}__${id}` },
      );
    const now = Date.now();
    await fake('sync', 'old', now - 3 * 3_600_000);
    await fake('sync', 'new', now);
    await fake('enrichment', 'old', now - 3 * 3_600_000);
    expect(await x.deadLetters.purge({ queue: 'sync', olderThanMs: 3_600_000 })).toBe(1);
    expect((await x.deadLetters.list()).map((d) => d.id).sort()).toEqual(['enrichment__old', 'sync__new']);
    expect(await x.deadLetters.purge({ queue: 'enrichment' })).toBe(1);
    expect(await x.deadLetters.purge()).toBe(1);
    expect(await x.deadLetters.count()).toBe(0);
  });

  it('enforces retention on a timer, even when no other job finishes', async () => {
    const { x, add } = await setup(async () => null, { SPOTTER_JOBS_COMPLETED_RETENTION: '1s', SPOTTER_JOBS_RETENTION_INTERVAL: '200ms' });
    await add('a');
    await add('b');
    await waitFor('completed', async () => (await x.queues.get('sync').getCompletedCount()) === 2);
    const retention = new Retention(x.queues, x.deadLetters, x.config, x.log);
    retention.start();
    open.push({ dispose: () => retention.close() });
    await waitFor('completed jobs removed by age', async () => (await x.queues.get('sync').getCompletedCount()) === 0, {
      timeoutMs: 10_000,
    });
  });

  it('dead-letters an UnrecoverableError from a handler at once, as permanent', async () => {
    let runs = 0;
    const { x, add } = await setup(async () => {
      runs++;
      throw new UnrecoverableError('cannot ever work');
    });
    await add('u');
    await waitFor('dead letter', async () => (await x.deadLetters.count()) === 1);
    // Three attempts are allowed: a retried error would run three times and be "attempts exhausted (3/3)".
    expect(runs).toBe(1);
    const [d] = await x.deadLetters.list();
    expect(d?.failedReason).toBe('permanent: cannot ever work');
    expect(d?.attemptsMade).toBe(1);
  });
});
