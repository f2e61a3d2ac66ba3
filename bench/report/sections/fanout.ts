import { n0, range, ratio, s1 } from '../format.js';
import type { RedisResult } from '../types.js';

export function fanoutSection(red: RedisResult): string[] {
  return [
    '',
    '### Fan-out of one tick',
    '',
    '| users | enqueue spotter-jobs (s) | enqueue plain (s) | jobs/s spotter / plain | ratio | Redis bytes per waiting job spotter / plain | all done, 1 worker process (s) spotter / plain |',
    '|---|---|---|---|---|---|---|',
    ...red.fanout.map(
      (f) =>
        `| ${n0(f.users)} | ${range(f.spotterMs, s1)} | ${range(f.bullmqMs, s1)} | ${n0(f.users / (f.spotterMs.median / 1000))} / ${n0(f.users / (f.bullmqMs.median / 1000))} | ${ratio(f.bullmqMs.median, f.spotterMs.median)} | ${n0(f.spotterBytesPerJob.median)} / ${n0(f.bullmqBytesPerJob.median)} | ${f.spotterDrainMs && f.bullmqDrainMs ? `${s1(f.spotterDrainMs.median)} / ${s1(f.bullmqDrainMs.median)}` : '–'} |`,
    ),
    '',
    '(ratio = spotter-jobs rate / plain rate.)',
    '',
  ];
}
