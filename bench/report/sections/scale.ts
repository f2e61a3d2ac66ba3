import { n0, range, ratio } from '../format.js';
import type { BenchResult, RedisResult } from '../types.js';

export function scaleSection(red: RedisResult, r: BenchResult): string[] {
  if (!red.scale.length) return [];
  return [
    `### Worker scale-out (jobs/s, ${n0(red.scale[0]?.jobs ?? 0)} jobs, concurrency 50 per process)`,
    '',
    '| processes | spotter-jobs | plain BullMQ | ratio |',
    '|---|---|---|---|',
    ...red.scale.map(
      (s) => `| ${s.processes} | ${range(s.spotter, n0)} | ${range(s.bullmq, n0)} | ${ratio(s.spotter.median, s.bullmq.median)} |`,
    ),
    '',
    `This machine has ${r.machine.cores} cores shared by Redis, the benchmark and every worker process, so the curve bends as soon as the processes outnumber the cores: more processes then only add context switches. On more cores, or with workers on other machines, it keeps rising until Redis (single-threaded) saturates.`,
    '',
  ];
}
