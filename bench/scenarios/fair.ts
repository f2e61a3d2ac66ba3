/**
 * Fair share (docs/fair-share.md), both sides in one run:
 * - the starvation bound: one owner floods an item kind (handler 5 ms, concurrency 20), a second
 *   owner adds 10 jobs one second later; its 10 must be done within 2 × (what 10 alone take) + 1 s.
 *   Again with the flood spread over 1,000 item ids and 100 kinds (queues) of the same owner, each kind
 *   with concurrency 1 (kinds do not share slots, so 100 × 20 would be a hundred times the capacity);
 *   the small owner's jobs go to the first of them.
 * - the cost: one owner's jobs added and run end to end (no-op handler, concurrency 50), the kind fair
 *   and not, alternating; fair must keep ≥ 0.9× of the other's rate.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import { paginate } from '../../src/handlers/types.js';
import { addJob } from '../../src/jobs/add-job.js';
import { Queues } from '../../src/jobs/queues.js';
import { DeadLetters } from '../../src/services/dead-letters/index.js';
import { Consumers } from '../../src/workers/consumer.js';
import { now } from '../lib/clock.js';
import { waitDrained } from '../lib/drained.js';
import { bullmqFlood, type FloodSpec, spotterFlood } from '../lib/fair-sides.js';
import { prefix } from '../lib/prefix.js';
import { flush } from '../lib/redis.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';
import { silentLog } from '../lib/spotter.js';
import { stats } from '../lib/stats.js';

const COST_CONCURRENCY = 50;

export const fair: Scenario = {
  name: 'fair',
  async run(ctx) {
    const { quick, log } = ctx;
    // Quick (CI): a flood that would be over within the second, so the second owner comes sooner.
    const base = { flood: quick ? 2_000 : 50_000, small: 10, handlerMs: 5, afterMs: quick ? 200 : 1000 };
    const variants: Array<{ variant: string } & FloodSpec> = [
      { variant: 'one kind', kinds: ['track'], items: quick ? 2_000 : 50_000, concurrency: 20, ...base },
      {
        variant: 'spread',
        kinds: Array.from({ length: quick ? 10 : 100 }, (_, i) => `track-${String(i).padStart(2, '0')}`),
        items: quick ? 100 : 1_000,
        concurrency: 1,
        ...base,
      },
    ];
    const starvation = [];
    for (const { variant, ...spec } of variants) {
      await flush(ctx.conn);
      const spotter = await spotterFlood(ctx.conn, ctx.url, prefix('fair'), spec);
      await flush(ctx.conn);
      const bullmq = await bullmqFlood(ctx.conn, ctx.url, prefix('fairb'), spec);
      const row = {
        variant,
        kinds: spec.kinds.length,
        items: spec.items,
        flood: spec.flood,
        small: spec.small,
        concurrency: spec.concurrency,
        spotter,
        bullmq,
      };
      starvation.push(row);
      const bound = (alone: number) => 2 * alone + 1000;
      log(
        `fair ${variant}: small owner ${spotter.smallMs.toFixed(0)} ms in the flood (alone ${spotter.aloneMs.toFixed(0)} ms, bound ${bound(spotter.aloneMs).toFixed(0)} ms), plain BullMQ ${bullmq.smallMs.toFixed(0)} ms (alone ${bullmq.aloneMs.toFixed(0)} ms); flood ${spotter.floodMs.toFixed(0)} / ${bullmq.floodMs.toFixed(0)} ms`,
      );
    }
    const cost = await costRuns(ctx);
    ctx.red.fair = { handlerMs: base.handlerMs, afterMs: base.afterMs, starvation, cost };
    log(`fair cost c=${COST_CONCURRENCY}: fair ${cost.fair.median.toFixed(0)}/s, not fair ${cost.plain.median.toFixed(0)}/s`);
  },
};

/** The cost of fairness: one owner's jobs added and run, fair and not, alternating; jobs/s. */
async function costRuns({ conn, url, sizes }: BenchContext) {
  const runs = { fair: [] as number[], plain: [] as number[] };
  for (let i = 0; i < sizes.swingRounds; i++) {
    for (const fair of [false, true]) {
      await flush(conn);
      const ms = await endToEnd(conn, url, prefix('fairc'), sizes.throughputJobs, fair);
      runs[fair ? 'fair' : 'plain'].push(sizes.throughputJobs / (ms / 1000));
    }
  }
  return { jobs: sizes.throughputJobs, concurrency: COST_CONCURRENCY, fair: stats(runs.fair), plain: stats(runs.plain) };
}

/** `n` no-op jobs of one owner added (in bursts of 1,000 adds at once) while a worker runs them; ms until all done. */
async function endToEnd(conn: Redis, url: string, p: string, n: number, fair: boolean): Promise<number> {
  const catalog = { track: { decl: { scope: 'item' as const, concurrency: COST_CONCURRENCY }, source: 'bench' } };
  const config = loadConfig(
    {
      REDIS_URL: url,
      SPOTTER_JOBS_PREFIX: p,
      SPOTTER_JOBS_LOG_LEVEL: 'info',
      SPOTTER_JOBS_COMPLETED_KEEP: '100000000',
      SPOTTER_JOBS_TRACK_FAIR: String(fair),
    },
    catalog,
  );
  const log = silentLog();
  const queues = new Queues(conn, config, log);
  const kind = config.kinds.track;
  if (!kind) throw new Error('no kind track');
  const handlers = { mode: 'module' as const, listUsers: () => paginate([], 1), run: { track: async () => null } };
  const consumers = new Consumers({ conn, config, queues, log, deadLetters: new DeadLetters(queues, config), handlers }, [kind]);
  consumers.start();
  await new Queue('track', { connection: conn, prefix: p }).close();
  const t0 = now();
  for (let i = 0; i < n; i += 1000) {
    const ids = Array.from({ length: Math.min(1000, n - i) }, (_, j) => i + j);
    await Promise.all(
      ids.map((j) =>
        addJob(queues, { kind, subject: { id: `t${j}`, data: {}, owner: 'one' }, jobId: `one__${j}`, scheduledFor: Date.now() }),
      ),
    );
  }
  await waitDrained(conn, p, 'track', n);
  const ms = now() - t0;
  await consumers.close();
  await queues.close();
  return ms;
}
