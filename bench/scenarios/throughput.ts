/** Worker throughput: one process, pre-added no-op jobs, at each concurrency, both sides alternating. */
import { drainInProcess } from '../lib/drain-in-process.js';
import { prefix } from '../lib/prefix.js';
import { flush } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

export const throughput: Scenario = {
  name: 'throughput',
  async run({ conn, url, reps, sizes, red, log }) {
    for (const c of sizes.concurrency) {
      const row = { concurrency: c, jobs: sizes.throughputJobs, spotter: [] as number[], bullmq: [] as number[] };
      for (let i = 0; i < reps; i++) {
        for (const side of ['bullmq', 'spotter'] as const) {
          await flush(conn);
          const ms = await drainInProcess(side, conn, url, prefix('t'), sizes.throughputJobs, c);
          row[side].push(sizes.throughputJobs / (ms / 1000));
        }
      }
      red.throughput.push({ concurrency: c, jobs: row.jobs, spotter: stats(row.spotter), bullmq: stats(row.bullmq) });
      log(`throughput c=${c}: spotter ${stats(row.spotter).median.toFixed(0)}/s, bullmq ${stats(row.bullmq).median.toFixed(0)}/s`);
    }
  },
};
