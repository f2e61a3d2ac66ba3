import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { freePort } from '../../src/redis/local.js';
import { addJobs } from './add-jobs.js';
import { now, sleep } from './clock.js';
import { waitDrained } from './drained.js';
import { CLI, NOOP_HANDLERS, PLAIN_WORKER } from './paths.js';
import { startProcess } from './start-process.js';

/** Drains `n` jobs with `k` worker processes of each side; returns ms from resume to the last completion. */
export async function drainProcesses(
  side: 'spotter' | 'bullmq',
  conn: Redis,
  url: string,
  p: string,
  n: number,
  k: number,
  concurrency: number,
): Promise<number> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  await q.pause();
  await addJobs(side, conn, url, p, n);
  const ports = await Promise.all(Array.from({ length: k }, () => freePort()));
  const procs = ports.map((port) =>
    side === 'spotter'
      ? startProcess(
          [CLI, 'worker', '--queues', 'sync'],
          {
            REDIS_URL: url,
            SPOTTER_JOBS_PREFIX: p,
            SPOTTER_JOBS_HANDLERS: NOOP_HANDLERS,
            SPOTTER_JOBS_SYNC_CONCURRENCY: String(concurrency),
            SPOTTER_JOBS_WORKER_HTTP_PORT: String(port),
            SPOTTER_JOBS_COMPLETED_KEEP: '100000000',
            SPOTTER_JOBS_LOG_LEVEL: 'info',
          },
          port,
        )
      : startProcess([PLAIN_WORKER], { REDIS_URL: url, PREFIX: p, CONCURRENCY: String(concurrency) }),
  );
  await Promise.all(procs.map((x) => x.ready));
  await sleep(200);
  const t0 = now();
  await q.resume();
  await waitDrained(conn, p, 'sync', n);
  const ms = now() - t0;
  for (const x of procs) x.child.kill('SIGTERM');
  await Promise.all(procs.map((x) => x.exited));
  await q.close();
  return ms;
}
