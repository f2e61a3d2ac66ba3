/**
 * Two ticks of n users while one worker (in this process, concurrency 50) drains them: spotter-jobs'
 * windowed fan-out against plain BullMQ adding every job at once. Redis memory above the idle level
 * before each tick is sampled every 20 ms; both keep completed jobs as the service does (10,000). The
 * first tick starts from an empty Redis (it also creates each user's history record); the second is
 * the steady state, with the records and retained jobs in place.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KindConfig } from '../../src/config/kind-config.js';
import { loadConfig } from '../../src/config/load.js';
import { paginate } from '../../src/handlers/types.js';
import { Queues } from '../../src/jobs/queues.js';
import { fanOut } from '../../src/producers/fan-out.js';
import { windowFor } from '../../src/producers/tick-consumer.js';
import { plainAddBulk } from '../lib/add-jobs.js';
import { now, sleep } from '../lib/clock.js';
import { waitIdle } from '../lib/drained.js';
import { ROOT } from '../lib/paths.js';
import { prefix } from '../lib/prefix.js';
import { flush, historyMemory, usedMemory } from '../lib/redis.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';
import { noopSync, silentLog, users } from '../lib/spotter.js';
import { windowReport } from '../report/window-page.js';

interface Measured {
  peak: number;
  ms: number;
}

export const window: Scenario = {
  name: 'window',
  async run(ctx) {
    const { conn, sizes, red, log } = ctx;
    for (const n of sizes.window) {
      const row = {
        spotterPeak: 0,
        bullmqPeak: 0,
        spotterMs: 0,
        bullmqMs: 0,
        historyBytes: 0,
        spotterNextPeak: 0,
        bullmqNextPeak: 0,
        spotterNextMs: 0,
        bullmqNextMs: 0,
      };
      for (const side of ['bullmq', 'spotter'] as const) {
        await flush(conn);
        const p = prefix('w');
        if (side === 'spotter') {
          const { ticks, historyBytes } = await spotterTicks(ctx, p, n);
          row.historyBytes = historyBytes;
          const [first, next] = ticks;
          Object.assign(row, { spotterPeak: first.peak, spotterMs: first.ms, spotterNextPeak: next.peak, spotterNextMs: next.ms });
        } else {
          const [first, next] = await bullmqTicks(conn, p, n);
          Object.assign(row, { bullmqPeak: first.peak, bullmqMs: first.ms, bullmqNextPeak: next.peak, bullmqNextMs: next.ms });
        }
      }
      red.window ??= [];
      red.window.push({ users: n, ...row });
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      log(
        `window ${n}: peak above idle, first tick: spotter ${mib(row.spotterPeak)} MiB (history ${mib(row.historyBytes)} MiB), bullmq ${mib(row.bullmqPeak)} MiB; next tick: spotter ${mib(row.spotterNextPeak)} MiB, bullmq ${mib(row.bullmqNextPeak)} MiB; done in ${(row.spotterMs / 1000).toFixed(1)} s / ${(row.bullmqMs / 1000).toFixed(1)} s, next ${(row.spotterNextMs / 1000).toFixed(1)} s / ${(row.bullmqNextMs / 1000).toFixed(1)} s`,
      );
    }
    // The page shows Redis without persistence, like the README's figures (docs/benchmarks.md has
    // the AOF half too); a quick run (CI) checks that the scenario works, its figures are not published.
    if (red.window?.length && !ctx.quick && ctx.persistence === 'none') windowReport(ctx.result, ROOT, ctx.persistence);
  },
};

/** Runs `run` while sampling Redis memory every 20 ms: its peak above the level before, and its time. */
async function measured(conn: Redis, run: () => Promise<void>): Promise<Measured> {
  const idle = await usedMemory(conn);
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await usedMemory(conn)) - idle);
      await sleep(20);
    }
  })();
  const t0 = now();
  await run();
  const ms = now() - t0;
  sampling = false;
  await sampler;
  return { peak, ms };
}

/** spotter-jobs: two windowed fan-outs, each drained; then the users' history records they left. */
async function spotterTicks(
  { conn, url }: BenchContext,
  p: string,
  n: number,
): Promise<{ ticks: [Measured, Measured]; historyBytes: number }> {
  const config = loadConfig({ REDIS_URL: url, SPOTTER_JOBS_PREFIX: p, SPOTTER_JOBS_LOG_LEVEL: 'info' });
  const slog = silentLog();
  const queues = new Queues(conn, config, slog);
  const kind = config.kinds.sync as KindConfig;
  const consumers = noopSync(conn, config, queues, slog);
  const ids = users(n);
  const tick = (i: number) => async () => {
    const at = Date.now() + i;
    await fanOut(
      { queues, config, log: slog, handlers: { mode: 'module', listUsers: (s) => paginate(ids, s), run: {} as never } },
      { kind, tickId: `repeat:sync:${at}`, scheduledFor: at, spreadMs: 0, window: windowFor(config, kind) },
    );
    await waitIdle(queues.get('sync'));
  };
  const ticks: [Measured, Measured] = [await measured(conn, tick(0)), await measured(conn, tick(1))];
  // The users' history records stay after the tick, one per user.
  await consumers.close();
  const historyBytes = (await historyMemory(conn, p)).bytes;
  await queues.close();
  return { ticks, historyBytes };
}

/** Plain BullMQ: two ticks added at once with addBulk, each drained by a worker keeping 10,000 completed. */
async function bullmqTicks(conn: Redis, p: string, n: number): Promise<[Measured, Measured]> {
  const w = new Worker('sync', async () => null, {
    connection: conn,
    prefix: p,
    concurrency: 50,
    removeOnComplete: { age: 86_400, count: 10_000 },
  });
  w.on('error', () => {});
  const q = new Queue('sync', { connection: conn, prefix: p });
  const tick = () => async () => {
    await plainAddBulk(conn, p, n, 'plain');
    await waitIdle(q);
  };
  const ticks: [Measured, Measured] = [await measured(conn, tick()), await measured(conn, tick())];
  await w.close();
  await q.close();
  return ticks;
}
