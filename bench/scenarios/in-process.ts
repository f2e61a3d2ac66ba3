/** The lower bound: the in-process ticker Spotter had, no Redis, a semaphore of 50, no-op work. */
import { now } from '../lib/clock.js';
import type { Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

export const inProcess: Scenario = {
  name: 'inprocess',
  async run({ reps, sizes, red }) {
    const inproc: number[] = [];
    for (let i = 0; i < reps; i++) inproc.push(sizes.inProcessJobs / ((await inProcessTicker(sizes.inProcessJobs, 50)) / 1000));
    red.inProcess = { jobs: sizes.inProcessJobs, perSecond: stats(inproc) };
  },
};

async function inProcessTicker(n: number, concurrency: number): Promise<number> {
  const t0 = now();
  let next = 0;
  const run = async () => {
    while (next < n) {
      next++;
      await Promise.resolve(null);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, run));
  return now() - t0;
}
