/**
 * While Redis refuses writes (out of memory under noeviction), BullMQ's worker asks for its next job
 * again at once, thousands of times a second. A worker of this service waits longer after each
 * refusal instead, at most 5 s, and takes its jobs again once Redis accepts writes.
 */
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { backOffWhenRefused, FIRST_BACKOFF_MS, isRefusal, MOST_BACKOFF_MS } from '../src/redis/refused-fetches.js';
import { testHandlers } from './helpers/handlers.js';
import type { Harness } from './helpers/harness.js';
import { addUserJob, useHarnesses } from './helpers/in-process.js';
import { fillUntilOutOfMemory, privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const { h, consume, onCleanup } = useHarnesses();

/**
 * How many fetches Redis has refused: BullMQ's fetch is a script whose first write is an RPOPLPUSH
 * (wait to active), and Redis counts each refused command; the worker's other writes use others.
 */
async function refusedFetches(conn: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/^cmdstat_rpoplpush:.*rejected_calls=(\d+)/m.exec(await conn.info('commandstats'))?.[1] ?? 0);
}

/** A worker of either kind over a harness, with one job waiting for it; `ran` once the job was taken. */
type Subject = (x: Harness) => Promise<{ start(): void; ran(): Promise<boolean> }>;

const jobWorker: Subject = async (x) => {
  await addUserJob(x, 'u1');
  const ran: string[] = [];
  return {
    start: () =>
      consume(x, async (user) => {
        ran.push(user);
        return null;
      }),
    ran: async () => ran.includes('u1'),
  };
};

const tickWorker: Subject = async (x) => {
  const job = await x.queues.schedules().add('tick', { schedule: 'sync' }, { jobId: 'manual_sync_1' });
  return {
    start: () => {
      const ticks = new TickConsumer({ ...x, handlers: testHandlers([]) });
      ticks.start();
      onCleanup(() => ticks.close());
    },
    ran: async () => ['completed', 'failed'].includes(await job.getState()),
  };
};

describe('a worker that Redis refuses for memory', () => {
  it.each([
    ['a job worker', jobWorker],
    ["the producer's tick worker", tickWorker],
  ])('(%s) waits longer after each refused fetch, and takes its job once Redis accepts writes again', async (_name, subject) => {
    const r = await privateRedis({ appendonly: false });
    onCleanup(() => r.dispose());
    const x = await h({ REDIS_URL: r.redis.url });
    // A job is waiting before Redis fills, so the worker has something to fetch from its first try.
    const worker = await subject(x);
    const used = Number(/^used_memory:(\d+)/m.exec(await x.conn.info('memory'))?.[1]);
    const { refused } = await fillUntilOutOfMemory(x.conn, x.prefix, used);
    expect(refused).toMatch(/^OOM /);
    const base = await refusedFetches(x.conn);

    worker.start();
    await waitFor('a first refused fetch', async () => (await refusedFetches(x.conn)) > base, { intervalMs: 5 });
    const first = Date.now();
    // Without the backoff the next three come within a few milliseconds; with it, after waits of 250,
    // 500 and 1,000 ms.
    await waitFor('three more refused fetches', async () => (await refusedFetches(x.conn)) >= base + 4, { intervalMs: 5 });
    expect(Date.now() - first).toBeGreaterThanOrEqual(6 * FIRST_BACKOFF_MS);

    await x.conn.config('SET', 'maxmemory', '0');
    for (let i = 0; i < 100; i++) await x.conn.del(`${x.prefix}:filler:${i}`);
    await waitFor('the waiting job taken once Redis accepts writes (within the longest wait, 5 s)', () => worker.ran());
  });
});

describe('the wait after a refusal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('doubles at each refusal in a row up to 5 s, starts over after a quiet spell, and ignores other errors', async () => {
    const x = await h();
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    // A real BullMQ worker, never started: only the time its fetch loop waits for is looked at.
    const worker = new Worker('never-started', null, { autorun: false, connection: x.conn, prefix: x.prefix });
    onCleanup(() => worker.close(true));
    const limitUntil = () => (worker as unknown as { limitUntil: number }).limitUntil - Date.now();
    const backOff = backOffWhenRefused(worker);
    const oom = new Error("OOM command not allowed when used memory > 'maxmemory'.");

    expect(backOff(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
    expect(limitUntil()).toBeLessThanOrEqual(0);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      expect(backOff(oom)).toBe(true);
      waits.push(limitUntil());
    }
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, MOST_BACKOFF_MS, MOST_BACKOFF_MS]);
    vi.setSystemTime(Date.now() + 2 * MOST_BACKOFF_MS + 1);
    backOff(new Error("READONLY You can't write against a read only replica."));
    expect(limitUntil()).toBe(FIRST_BACKOFF_MS);
    expect(['MISCONF x', 'LOADING x', 'BUSY x', 'ERR syntax error', 'Connection is closed.'].map((m) => isRefusal(new Error(m)))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});
