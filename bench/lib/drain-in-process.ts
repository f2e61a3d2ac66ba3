/** Draining pre-added jobs with one worker of either side, in this process. */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Queues } from '../../src/jobs/queues.js';
import { JobMetrics } from '../../src/web/metrics.js';
import { addJobs } from './add-jobs.js';
import { now } from './clock.js';
import { waitDrained } from './drained.js';
import { redisCpuSeconds } from './redis.js';
import { configFor, noopSync, silentLog } from './spotter.js';

/** Node and Redis CPU time spent during a drain, per job (µs). */
export interface DrainCpu {
  nodeUs: number;
  redisUs: number;
}

/**
 * Drains `n` pre-added jobs in this process; returns ms. `jobs` says whose jobs are added (the
 * worker's side by default): plain BullMQ's worker on spotter-jobs' jobs separates what the jobs
 * cost (per-tick ids, coalescing) from what the worker does. `cpu` receives the CPU time per job.
 */
export async function drainInProcess(
  side: 'spotter' | 'bullmq',
  conn: Redis,
  url: string,
  p: string,
  n: number,
  concurrency: number,
  env: Record<string, string> = {},
  opts: { jobs?: 'spotter' | 'bullmq'; cpu?: DrainCpu } = {},
): Promise<number> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  await q.pause();
  await addJobs(opts.jobs ?? side, conn, url, p, n);
  const close = await startWorker(side, conn, url, p, concurrency, env);
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuSeconds(conn);
  const t0 = now();
  await q.resume();
  await waitDrained(conn, p, 'sync', n);
  const ms = now() - t0;
  if (opts.cpu) {
    const cpu = process.cpuUsage(cpu0);
    opts.cpu.nodeUs = (cpu.user + cpu.system) / n;
    opts.cpu.redisUs = (((await redisCpuSeconds(conn)) - redis0) * 1e6) / n;
  }
  await close();
  await q.close();
  return ms;
}

/** One side's sync worker, with a no-op processor and metrics for spotter-jobs; returns its close. */
async function startWorker(
  side: 'spotter' | 'bullmq',
  conn: Redis,
  url: string,
  p: string,
  concurrency: number,
  env: Record<string, string>,
): Promise<() => Promise<void>> {
  if (side === 'spotter') {
    const config = configFor(url, p, { SPOTTER_JOBS_SYNC_CONCURRENCY: String(concurrency), ...env });
    const log = silentLog();
    const queues = new Queues(conn, config, log);
    const metrics = new JobMetrics(new Registry());
    const consumers = noopSync(conn, config, queues, log, (qn, o, s) => metrics.observe(qn, o, s));
    return async () => {
      await consumers.close();
      await queues.close();
    };
  }
  const w = new Worker('sync', async () => null, {
    connection: conn,
    prefix: p,
    concurrency,
    removeOnComplete: { age: 86_400, count: 100_000_000 },
  });
  w.on('error', () => {});
  await w.waitUntilReady();
  return () => w.close();
}
