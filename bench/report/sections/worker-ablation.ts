import { n0, paired } from '../format.js';
import type { BenchResult, RedisResult, WorkerCost } from '../types.js';

/** Where the worker's time goes: plain jobs, spotter-jobs' jobs under plain BullMQ's worker, spotter-jobs. */
export function workerAblationSection(red: RedisResult, r: BenchResult): string[] {
  const w = red.workerAblation;
  if (!w) return [];
  const base = w.plain.perSecond;
  const row = (name: string, c: WorkerCost) =>
    `| ${name} | ${n0(c.perSecond.median)} | ${paired(c.perSecond, base)} | ${c.nodeUs.median.toFixed(1)} | ${c.redisUs.median.toFixed(1)} |`;
  return [
    '',
    `Where the worker's time goes (concurrency ${w.concurrency}, ${n0(w.jobs)} no-op jobs; CPU per job measured during the drain, medians of ${r.reps} rounds, each round running the three one after the other):`,
    '',
    '| worker, jobs | jobs/s | against plain (median of per-round ratios) | Node CPU µs/job | Redis CPU µs/job |',
    '|---|---|---|---|---|',
    row('plain BullMQ worker, plain jobs', w.plain),
    row("plain BullMQ worker, spotter-jobs' fan-out jobs (per-tick ids, coalescing)", w.plainWorkerSpotterJobs),
    row('spotter-jobs worker, its own jobs (validation, log line, metrics, history, exclusivity lane)', w.spotter),
    '',
    'The second row is what the jobs themselves cost: BullMQ removes the coalescing key as each job finishes and parses its larger options. The step from the second row to the third is what the worker does per job.',
  ];
}
