/**
 * Where worker time goes, at concurrency 50: plain BullMQ's worker on its own jobs, the same worker on
 * jobs added by spotter-jobs' fan-out (per-tick ids, coalescing), and spotter-jobs' worker on them. One
 * round runs the three one right after the other. It explains the throughput table, so `--only
 * throughput` runs it too.
 */
import { type DrainCpu, drainInProcess } from '../lib/drain-in-process.js';
import { prefix } from '../lib/prefix.js';
import { flush } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

const variants = [
  ['bullmq', 'bullmq'],
  ['bullmq', 'spotter'],
  ['spotter', 'spotter'],
] as const;

export const workerAblation: Scenario = {
  name: 'throughput',
  async run({ conn, url, reps, sizes, red, log }) {
    const c = 50;
    const runs = variants.map(() => ({ perSecond: [] as number[], nodeUs: [] as number[], redisUs: [] as number[] }));
    for (let i = 0; i < reps; i++) {
      for (const [v, [side, jobs]] of variants.entries()) {
        await flush(conn);
        const cpu: DrainCpu = { nodeUs: 0, redisUs: 0 };
        const ms = await drainInProcess(side, conn, url, prefix('wa'), sizes.throughputJobs, c, {}, { jobs, cpu });
        const run = runs[v] as (typeof runs)[number];
        run.perSecond.push(sizes.throughputJobs / (ms / 1000));
        run.nodeUs.push(cpu.nodeUs);
        run.redisUs.push(cpu.redisUs);
      }
    }
    const row = (k: number) => {
      const x = runs[k] as (typeof runs)[number];
      return { perSecond: stats(x.perSecond), nodeUs: stats(x.nodeUs), redisUs: stats(x.redisUs) };
    };
    red.workerAblation = { concurrency: c, jobs: sizes.throughputJobs, plain: row(0), plainWorkerSpotterJobs: row(1), spotter: row(2) };
    const w = red.workerAblation;
    log(
      `worker ablation c=${c}: plain ${w.plain.perSecond.median.toFixed(0)}/s (${w.plain.nodeUs.median.toFixed(1)} µs node, ${w.plain.redisUs.median.toFixed(1)} µs redis), plain worker on spotter jobs ${w.plainWorkerSpotterJobs.perSecond.median.toFixed(0)}/s (${w.plainWorkerSpotterJobs.nodeUs.median.toFixed(1)}, ${w.plainWorkerSpotterJobs.redisUs.median.toFixed(1)}), spotter ${w.spotter.perSecond.median.toFixed(0)}/s (${w.spotter.nodeUs.median.toFixed(1)}, ${w.spotter.redisUs.median.toFixed(1)})`,
    );
  },
};
