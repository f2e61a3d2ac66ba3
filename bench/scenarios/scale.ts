/** Worker scale-out: the same jobs drained by 1, 2, 4 worker processes of each side (jobs/s). */
import { drainProcesses } from '../lib/drain-processes.js';
import { prefix } from '../lib/prefix.js';
import { flush } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

export const scale: Scenario = {
  name: 'scale',
  async run({ conn, url, reps, sizes, red, log }) {
    for (const k of sizes.processes) {
      const row = { spotter: [] as number[], bullmq: [] as number[] };
      for (let i = 0; i < reps; i++) {
        for (const side of ['bullmq', 'spotter'] as const) {
          await flush(conn);
          const ms = await drainProcesses(side, conn, url, prefix('s'), sizes.scaleJobs, k, 50);
          row[side].push(sizes.scaleJobs / (ms / 1000));
        }
      }
      red.scale.push({ processes: k, jobs: sizes.scaleJobs, spotter: stats(row.spotter), bullmq: stats(row.bullmq) });
      log(`scale ${k} processes: spotter ${stats(row.spotter).median.toFixed(0)}/s, bullmq ${stats(row.bullmq).median.toFixed(0)}/s`);
    }
  },
};
