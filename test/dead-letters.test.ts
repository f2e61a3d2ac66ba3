/**
 * Dead letters agree with what the board did and with what happened: a letter deleted on the board stays
 * deleted, a job retried there retires its letter, and a letter keeps the first attempt's start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/handlers/types.js';
import { PermanentError } from '../src/jobs/errors.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
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

describe('a dead letter deleted on the board', () => {
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

describe('a failed job retried on the board', () => {
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
    expect(r).toEqual({ replayed: [], missing: [], settled: ['sync__t__r1'], orphaned: [] });
    // The other is retired by the next retention round.
    expect(await x.deadLetters.retireSettled()).toBe(1);
    expect(await x.deadLetters.count()).toBe(0);
    expect(runs.filter((j) => j === 't__r1')).toHaveLength(2);
    expect(await x.queues.get('sync').getJob('t__r1__replay')).toBeUndefined();
  });
});

describe('a dead letter records its first attempt', () => {
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
