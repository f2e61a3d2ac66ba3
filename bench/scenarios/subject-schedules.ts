/**
 * Subject schedules side by side with BullMQ job schedulers (`upsertJobScheduler` per user, the way a
 * BullMQ user keeps a per-user schedule today): Redis bytes per schedule and schedules added per
 * second; then, with every schedule in Redis, a batch due in the same minute: due → started lag with
 * a materialiser and a worker in this process, and this process's heap while it materialises.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Queues } from '../../src/jobs/queues.js';
import { Materialiser } from '../../src/producers/materialiser.js';
import { SubjectSchedules } from '../../src/schedules/subject/store.js';
import { sleep } from '../lib/clock.js';
import { prefix } from '../lib/prefix.js';
import { flush, usedMemory } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { configFor, noopSync, silentLog } from '../lib/spotter.js';

const RULES = [
  'every day at 08:00',
  'every weekday at 7:30',
  'every other tuesday at 9:34am',
  '0 9 * * 1',
  'every 2 hours',
  'on the 1st of every month at midnight',
];
const ZONES = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Tokyo'];

function sizes(quick: boolean) {
  return { schedules: quick ? 20_000 : 1_000_000, bullmq: quick ? 2_000 : 20_000, due: quick ? 1_000 : 10_000, windowS: quick ? 5 : 60 };
}

/** `n` schedules added in pages of 1,000, four pages in flight: schedules per second. */
async function addSubjectSchedules(store: SubjectSchedules, n: number, from = 0, rule?: (i: number) => string): Promise<number> {
  const t0 = performance.now();
  const pages: number[] = [];
  for (let i = from; i < from + n; i += 1000) pages.push(i);
  const inFlight = 4;
  for (let k = 0; k < pages.length; k += inFlight) {
    await Promise.all(
      pages.slice(k, k + inFlight).map(async (start) => {
        const page = Array.from({ length: Math.min(1000, from + n - start) }, (_, j) => {
          const i = start + j;
          return {
            kind: 'sync',
            user: `user-${i}`,
            name: 'reminder',
            rule: rule ? rule(i) : (RULES[i % RULES.length] as string),
            tz: ZONES[i % ZONES.length],
          };
        });
        for (const r of await store.addMany(page)) if ('error' in r) throw new Error(r.error);
      }),
    );
  }
  return (n * 1000) / (performance.now() - t0);
}

/** BullMQ: one job scheduler per user, 50 upserts in flight: schedulers per second. */
async function addJobSchedulers(conn: Redis, p: string, n: number): Promise<number> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        q.upsertJobScheduler(
          `reminder:user-${i + j}`,
          { pattern: '0 8 * * *', tz: ZONES[(i + j) % ZONES.length] },
          { name: 'user', data: { userId: `user-${i + j}` } },
        ),
      ),
    );
  }
  const rate = (n * 1000) / (performance.now() - t0);
  await q.close();
  return rate;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
}

export const subjectSchedules: Scenario = {
  name: 'subject-schedules',
  async run({ conn, url, quick, red, log }) {
    const z = sizes(quick);
    await flush(conn);
    let before = await usedMemory(conn);
    const bq = prefix('js');
    const bullmqPerSecond = await addJobSchedulers(conn, bq, z.bullmq);
    const bullmqBytes = ((await usedMemory(conn)) - before) / z.bullmq;
    log(`  BullMQ job schedulers: ${z.bullmq} at ${bullmqPerSecond.toFixed(0)}/s, ${bullmqBytes.toFixed(0)} B each`);

    await flush(conn);
    before = await usedMemory(conn);
    const p = prefix('ss');
    const config = configFor(url, p, { SPOTTER_JOBS_SCHEDULE_WINDOW: `${z.windowS}s`, SPOTTER_JOBS_SYNC_CONCURRENCY: '200' });
    const store = new SubjectSchedules(conn, config);
    const perSecond = await addSubjectSchedules(store, z.schedules);
    const bytes = ((await usedMemory(conn)) - before) / z.schedules;
    log(`  subject schedules: ${z.schedules} at ${perSecond.toFixed(0)}/s, ${bytes.toFixed(0)} B each`);

    // A batch due in one minute (quick: in 5 s), on top of every schedule above.
    const dueFrom = Date.now() + (z.windowS + 10) * 1000;
    await addSubjectSchedules(
      store,
      z.due,
      z.schedules,
      (i) => `at ${new Date(dueFrom + Math.floor(((i - z.schedules) * z.windowS * 1000) / z.due)).toISOString()}`,
    );
    const log2 = silentLog();
    const queues = new Queues(conn, config, log2);
    const heap0 = process.memoryUsage().heapUsed;
    let heapPeak = heap0;
    const m = new Materialiser({ config, queues, log: log2 });
    m.start();
    const worker = noopSync(conn, config, queues, log2);
    const q = queues.get('sync');
    for (let t = 0; (await q.getCompletedCount()) < z.due && t < 600; t++) {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      await sleep(500);
    }
    await m.close();
    await worker.close();
    const jobs = await q.getJobs(['completed'], 0, -1);
    const lags = jobs.filter(Boolean).map((j) => (j.processedOn ?? 0) - (j.data as { scheduledFor: number }).scheduledFor);
    await queues.close();
    const lag = { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: Math.max(...lags), started: lags.length };
    log(
      `  due → started: p50 ${lag.p50} ms, p99 ${lag.p99} ms over ${lag.started} runs; heap +${((heapPeak - heap0) / 2 ** 20).toFixed(1)} MiB`,
    );
    red.subjectSchedules = {
      schedules: z.schedules,
      bytesPerSchedule: bytes,
      addedPerSecond: perSecond,
      bullmq: { schedulers: z.bullmq, bytesPerScheduler: bullmqBytes, addedPerSecond: bullmqPerSecond },
      due: z.due,
      windowS: z.windowS,
      lagMs: lag,
      heapGrowthBytes: heapPeak - heap0,
    };
  },
};
