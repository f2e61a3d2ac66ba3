/** Tick lag: a schedule's due time → the first job of the tick started, on a 1 s schedule, both sides. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { sleep } from '../lib/clock.js';
import { CLI, LAG_HANDLERS } from '../lib/paths.js';
import { prefix } from '../lib/prefix.js';
import type { Scenario } from '../lib/scenario.js';
import { startProcess } from '../lib/start-process.js';
import { stats } from '../lib/stats.js';

export const tickLag: Scenario = {
  name: 'lag',
  async run({ conn, url, quick, red, log }) {
    const ticks = quick ? 3 : 8;
    const spotter = await spotterLag(url, ticks);
    const bullmq = await bullmqLag(conn, ticks);
    red.tickLag = { spotter: stats(spotter), bullmq: stats(bullmq) };
    log(`tick lag: spotter ${red.tickLag.spotter.median} ms, bullmq ${red.tickLag.bullmq.median} ms`);
  },
};

/**
 * spotter-jobs: a 1 s schedule, producer and worker in one `all` process; the handlers write each job's
 * due and start times to a ledger. The first tick is left out (the process was just starting).
 */
async function spotterLag(url: string, ticks: number): Promise<number[]> {
  const p = prefix('lag');
  const dir = mkdtempSync(join(tmpdir(), 'bench-lag-'));
  const ledger = join(dir, 'starts');
  const proc = startProcess([CLI, 'all'], {
    REDIS_URL: url,
    SPOTTER_JOBS_PREFIX: p,
    SPOTTER_JOBS_HANDLERS: LAG_HANDLERS,
    BENCH_USERS: '100',
    BENCH_LEDGER: ledger,
    SPOTTER_SYNC_INTERVAL: '1s',
    SPOTTER_METADATA_ENABLED: 'false',
    SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    SPOTTER_JOBS_HTTP_PORT: '0',
    SPOTTER_JOBS_LOG_LEVEL: 'warn',
  });
  let lags: number[];
  for (;;) {
    const firsts = firstStarts(ledger);
    if (firsts.size > ticks) {
      lags = [...firsts.values()].slice(1, ticks + 1);
      break;
    }
    await sleep(200);
  }
  proc.child.kill('SIGTERM');
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
  return lags;
}

/** Per tick (by due time), the lag of its first job started, from the ledger's "<due> <started>" lines. */
function firstStarts(ledger: string): Map<string, number> {
  const lines = existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];
  const firsts = new Map<string, number>();
  for (const l of lines) {
    const [scheduled, started] = l.split(' ').map(Number) as [number, number];
    const key = String(scheduled);
    if (!firsts.has(key) || (firsts.get(key) as number) > started - scheduled) firsts.set(key, started - scheduled);
  }
  return firsts;
}

/** Plain BullMQ: a 1 s job scheduler and a worker; lag = due → the scheduler's job started. */
async function bullmqLag(conn: Redis, ticks: number): Promise<number[]> {
  const p = prefix('lagb');
  const q = new Queue('tick', { connection: conn, prefix: p });
  const lags: number[] = [];
  const w = new Worker(
    'tick',
    async (job) => {
      lags.push(Date.now() - (job.timestamp + (job.opts.delay ?? 0)));
    },
    { connection: conn, prefix: p },
  );
  await q.upsertJobScheduler('tick', { every: 1000 });
  while (lags.length <= ticks) await sleep(100);
  await w.close();
  await q.close();
  return lags.slice(1, ticks + 1);
}
