import { n0, range, ratio } from '../format.js';
import type { RedisResult } from '../types.js';

export function throughputSection(red: RedisResult): string[] {
  return [
    '### Worker throughput (jobs/s, one process, pre-added jobs, no-op handler)',
    '',
    '| concurrency | jobs | spotter-jobs | plain BullMQ | ratio |',
    '|---|---|---|---|---|',
    ...red.throughput.map(
      (t) =>
        `| ${t.concurrency} | ${n0(t.jobs)} | ${range(t.spotter, n0)} | ${range(t.bullmq, n0)} | ${ratio(t.spotter.median, t.bullmq.median)} |`,
    ),
  ];
}
