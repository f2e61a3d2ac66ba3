import { n0, paired } from '../format.js';
import type { BenchResult, RedisResult } from '../types.js';

/** The cost of exclusivity and user history, each variant against the bare job. */
export function policiesSection(red: RedisResult, r: BenchResult): string[] {
  const p = red.policies;
  if (!p) return [];
  return [
    '### The cost of the policies',
    '',
    `Sync jobs at concurrency ${p.concurrency} (${n0(p.jobs)} no-op jobs, jobs/s, median of ${r.reps}):`,
    '',
    '| variant | jobs/s | against the bare job (median of the per-round ratios) |',
    '|---|---|---|',
    ...(p.bare
      ? [`| bare: no exclusivity group, no history record (the work per job before the policies) | ${n0(p.bare.median)} | 1.00× |`]
      : []),
    `| as shipped, sync alone in its group (its lane: no per-user keys) | ${n0(p.exclusive.median)} | ${paired(p.exclusive, p.bare)} |`,
    ...(p.shared
      ? [`| as shipped while write-back is active in the group (per-user keys) | ${n0(p.shared.median)} | ${paired(p.shared, p.bare)} |`]
      : []),
    `| no exclusivity group, history on | ${n0(p.none.median)} | ${paired(p.none, p.bare)} |`,
    `| plain BullMQ | ${n0(p.bullmq.median)} | ${paired(p.bullmq, p.bare)} |`,
    '',
    `A kind alone in its exclusivity group runs in the group's lane and asks Redis nothing per job; while another kind of the group has work, each job takes its user's key first, one batched script call it waits for. The history record is one script call per 50 ms for all users who finished a job (a field per user in one of 16 shared hashes per kind), and takes ${n0(p.historyBytesPerUser)} B of Redis per user who ran a job within the retention.`,
    '',
  ];
}
