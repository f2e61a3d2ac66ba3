/**
 * While Redis refuses writes (out of memory under noeviction), BullMQ's worker asks for its next job
 * again at once, thousands of times a second. A worker of this service waits longer after each
 * refusal instead, at most 5 s, and takes its jobs again once Redis accepts writes.
 */
import { type Job, Worker } from 'bullmq';
import { ReplyError } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { backOffWhenRefused, FIRST_BACKOFF_MS, isRefusal, MOST_BACKOFF_MS } from '../src/redis/refused-fetches.js';
import { optionsFor, testHandlers } from './helpers/handlers.js';
import type { Harness } from './helpers/harness.js';
import { addUserJob, useHarnesses } from './helpers/in-process.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const { h, consume, onCleanup } = useHarnesses();

/**
 * How many fetches Redis has refused: BullMQ's fetch is a script whose first write is an RPOPLPUSH
 * (wait to active), and Redis counts each refused command; the worker's other writes use others.
 */
async function refusedFetches(conn: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/^cmdstat_rpoplpush:.*rejected_calls=(\d+)/m.exec(await conn.info('commandstats'))?.[1] ?? 0);
}

/** A harness on a private Redis of its own, whose memory limit the test may lower to 1 byte. */
async function onPrivateRedis(): Promise<Harness> {
  const r = await privateRedis({ appendonly: false });
  onCleanup(() => r.dispose());
  return h({ REDIS_URL: r.redis.url });
}

/**
 * Redis runs out of memory while `later`, a delayed job, comes due: its worker's fetch is refused.
 * Returns what `refusal` said then; Redis takes writes again after.
 */
async function refusedWhileDue(x: Harness, later: Job, refusal: () => string | undefined): Promise<string | undefined> {
  await x.conn.config('SET', 'maxmemory-policy', 'noeviction');
  await x.conn.config('SET', 'maxmemory', '1');
  expect(await later.getState()).toBe('delayed');
  const said = await waitFor('the refusal named', refusal, { intervalMs: 5 });
  await x.conn.config('SET', 'maxmemory', '0');
  return said;
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
    const x = await onPrivateRedis();
    // A job is waiting before Redis refuses writes, so the worker has something to fetch from its first try.
    const worker = await subject(x);
    // A limit of one byte: every write is refused, whatever the worker's own connections add.
    await x.conn.config('SET', 'maxmemory-policy', 'noeviction');
    await x.conn.config('SET', 'maxmemory', '1');
    const base = await refusedFetches(x.conn);

    worker.start();
    await waitFor('a first refused fetch', async () => (await refusedFetches(x.conn)) > base, { intervalMs: 5 });
    const first = Date.now();
    // Without the backoff the next three come within a few milliseconds; with it, after waits of 250,
    // 500 and 1,000 ms.
    await waitFor('three more refused fetches', async () => (await refusedFetches(x.conn)) >= base + 4, { intervalMs: 5 });
    expect(Date.now() - first).toBeGreaterThanOrEqual(6 * FIRST_BACKOFF_MS);
    expect(await worker.ran()).toBe(false);

    await x.conn.config('SET', 'maxmemory', '0');
    // The longest wait, and time to run the job.
    await waitFor('the waiting job taken once Redis accepts writes', () => worker.ran(), { timeoutMs: MOST_BACKOFF_MS + 3000 });
  });
});

describe("a worker's readiness while Redis refuses it", () => {
  // Each worker starts before Redis refuses writes, so its first stalled check passes (a refused one
  // leaves BullMQ waiting 5 s, past its close); the second job comes due once writes are refused, and
  // Redis refuses the worker's writes around it.
  it('names the refusal until the worker takes a job again', async () => {
    const x = await onPrivateRedis();
    await addUserJob(x, 'u0');
    const ran: string[] = [];
    const c = consume(x, async (user) => {
      ran.push(user);
      return null;
    });
    await waitFor('the first job taken', () => ran.includes('u0'));
    expect(c.refusal()).toBeUndefined();
    const later = await x.queues
      .get('sync')
      .add('user', { userId: 'u1', scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, 'sync'), jobId: 't__u1', delay: 2000 });
    expect(await refusedWhileDue(x, later, () => c.refusal())).toBe('sync: OOM');
    await addUserJob(x, 'u2');
    await waitFor('a new job taken once Redis accepts writes', () => ran.includes('u2'), { timeoutMs: MOST_BACKOFF_MS + 3000 });
    expect(c.refusal()).toBeUndefined();
  });

  it("names the refusal of the producer's tick worker until it takes a tick again", async () => {
    const x = await onPrivateRedis();
    const first = await x.queues.schedules().add('tick', { schedule: 'sync' }, { jobId: 'manual_sync_1' });
    const ticks = new TickConsumer({ ...x, handlers: testHandlers([]) });
    ticks.start();
    onCleanup(() => ticks.close());
    const ran = async (job: typeof first) => ['completed', 'failed'].includes(await job.getState());
    await waitFor('the first tick run', () => ran(first));
    expect(ticks.refusal()).toBeUndefined();
    const later = await x.queues.schedules().add('tick', { schedule: 'sync' }, { jobId: 'manual_sync_2', delay: 2000 });
    expect(await refusedWhileDue(x, later, () => ticks.refusal())).toBe('OOM');
    const again = await x.queues.schedules().add('tick', { schedule: 'sync' }, { jobId: 'manual_sync_3' });
    await waitFor('a new tick run once Redis accepts writes', () => ran(again), { timeoutMs: MOST_BACKOFF_MS + 3000 });
    expect(ticks.refusal()).toBeUndefined();
  });
});

describe('the wait after a refusal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('doubles at each refused round up to 5 s, holds it through the rest of a round, and starts over after a quiet spell', async () => {
    const x = await h();
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    // A real BullMQ worker, never started: only the time its fetch loop waits for is looked at.
    const worker = new Worker('never-started', null, { autorun: false, connection: x.conn, prefix: x.prefix });
    onCleanup(() => worker.close(true));
    const limitUntil = () => (worker as unknown as { limitUntil: number }).limitUntil - Date.now();
    const backOff = backOffWhenRefused(worker);
    const oom = new ReplyError("OOM command not allowed when used memory > 'maxmemory'.");

    expect(backOff(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
    expect(limitUntil()).toBeLessThanOrEqual(0);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      expect(backOff(oom)).toBe(true);
      waits.push(limitUntil());
      // The round's other refusals (the outcomes of the jobs that were running) come at once: same wait.
      vi.setSystemTime(Date.now() + 10);
      backOff(oom);
      expect(limitUntil()).toBe(waits.at(-1));
      // The next fetch, once the wait is over.
      vi.setSystemTime(Date.now() + (waits.at(-1) as number) - 10);
    }
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, MOST_BACKOFF_MS, MOST_BACKOFF_MS]);
    vi.setSystemTime(Date.now() + 2 * MOST_BACKOFF_MS + 1);
    backOff(new ReplyError("READONLY You can't write against a read only replica."));
    expect(limitUntil()).toBe(FIRST_BACKOFF_MS);
  });

  it('names its last refusal by reply code until the worker takes a job, or twice the wait passed', async () => {
    const x = await h();
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    const worker = new Worker('never-started', null, { autorun: false, connection: x.conn, prefix: x.prefix });
    onCleanup(() => worker.close(true));
    const backOff = backOffWhenRefused(worker);
    expect(backOff.refusal()).toBeUndefined();
    backOff(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."));
    expect(backOff.refusal()).toBe('OOM');
    // The worker takes a job (BullMQ's 'active' event).
    worker.emit('active', {} as Job, 'waiting');
    expect(backOff.refusal()).toBeUndefined();
    backOff(new Error("Failed to add repeatable job for next iteration: READONLY You can't write against a read only replica."));
    expect(backOff.refusal()).toBe('READONLY');
    vi.setSystemTime(Date.now() + 2 * FIRST_BACKOFF_MS);
    expect(backOff.refusal()).toBe('READONLY');
    vi.setSystemTime(Date.now() + 1);
    expect(backOff.refusal()).toBeUndefined();
  });

  it('counts what Redis answered, and a refusal BullMQ passes on, but not a lost connection or lock', () => {
    const cases: Array<[Error, boolean]> = [
      [new ReplyError("ERR The user executing the script can't run this command or subcommand"), true],
      [new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'), true],
      [new Error('Failed to add repeatable job for next iteration: OOM command not allowed'), true],
      [new Error('MISCONF Redis is configured to save RDB snapshots'), true],
      [new Error('Connection is closed.'), false],
      [new Error('connect ECONNREFUSED 127.0.0.1:6379'), false],
      [new Error('Missing lock for job 1. moveToFinished'), false],
      [new Error('BUSYGROUP Consumer Group name already exists'), false],
    ];
    expect(cases.map(([err]) => isRefusal(err))).toEqual(cases.map(([, want]) => want));
  });
});
