/**
 * Fan-out of one tick of n users: time to enqueue and Redis bytes per waiting job, each side; up to
 * `drainUpTo` users, also the time one worker process takes to drain the tick.
 */
import { addJobs } from '../lib/add-jobs.js';
import { drainProcesses } from '../lib/drain-processes.js';
import { prefix } from '../lib/prefix.js';
import { flush, usedMemory } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

export const fanout: Scenario = {
  name: 'fanout',
  async run({ conn, url, reps: allReps, sizes, red, log }) {
    for (const n of sizes.fanout) {
      const reps = n >= 1_000_000 ? Math.min(allReps, 3) : allReps;
      const row = {
        spotterMs: [] as number[],
        bullmqMs: [] as number[],
        spotterMem: [] as number[],
        bullmqMem: [] as number[],
        spotterDrain: [] as number[],
        bullmqDrain: [] as number[],
      };
      for (let i = 0; i < reps; i++) {
        for (const side of ['bullmq', 'spotter'] as const) {
          await flush(conn);
          const p = prefix('f');
          const before = await usedMemory(conn);
          const ms = await addJobs(side, conn, url, p, n);
          const mem = (await usedMemory(conn)) - before;
          row[side === 'spotter' ? 'spotterMs' : 'bullmqMs'].push(ms);
          row[side === 'spotter' ? 'spotterMem' : 'bullmqMem'].push(mem);
          if (n <= sizes.drainUpTo) {
            await flush(conn);
            const drain = await drainProcesses(side, conn, url, prefix('d'), n, 1, 50);
            row[side === 'spotter' ? 'spotterDrain' : 'bullmqDrain'].push(drain);
          }
        }
      }
      red.fanout.push({
        users: n,
        spotterMs: stats(row.spotterMs),
        bullmqMs: stats(row.bullmqMs),
        spotterBytesPerJob: stats(row.spotterMem.map((m) => m / n)),
        bullmqBytesPerJob: stats(row.bullmqMem.map((m) => m / n)),
        spotterDrainMs: row.spotterDrain.length ? stats(row.spotterDrain) : undefined,
        bullmqDrainMs: row.bullmqDrain.length ? stats(row.bullmqDrain) : undefined,
      });
      log(`fan-out ${n}: spotter ${stats(row.spotterMs).median.toFixed(0)} ms, bullmq ${stats(row.bullmqMs).median.toFixed(0)} ms`);
    }
  },
};
