import { n0 } from '../format.js';
import type { RedisResult } from '../types.js';

/** Subject schedules against one BullMQ job scheduler per user: memory, add rate, lag, producer heap. */
export function subjectSchedulesSection(red: RedisResult): string[] {
  const s = red.subjectSchedules;
  if (!s) return [];
  return [
    '### Subject schedules',
    '',
    `${n0(s.schedules)} subject schedules (six English, cron and RRULE triggers in four zones, one per user) against ${n0(s.bullmq.schedulers)} BullMQ job schedulers (\`upsertJobScheduler\` per user, cron in a zone), each side on an empty Redis. BullMQ's figure per scheduler is linear in their number, so fewer are added to keep the run short.`,
    '',
    '| | subject schedules | BullMQ job schedulers | ratio | target |',
    '|---|---|---|---|---|',
    `| Redis bytes per schedule | ${n0(s.bytesPerSchedule)} | ${n0(s.bullmq.bytesPerScheduler)} | ${(s.bytesPerSchedule / s.bullmq.bytesPerScheduler).toFixed(2)} | ≤ 150 B, ${s.bytesPerSchedule <= 150 ? 'met' : 'missed'} |`,
    `| added per second | ${n0(s.addedPerSecond)} | ${n0(s.bullmq.addedPerSecond)} | ${(s.addedPerSecond / s.bullmq.addedPerSecond).toFixed(1)}× | ≥ 20,000/s, ${s.addedPerSecond >= 20_000 ? 'met' : 'missed'} |`,
    '',
    `Then ${n0(s.due)} more, due within ${s.windowS} s of each other, with all ${n0(s.schedules)} in Redis; one materialiser and one worker process (concurrency 200, no-op handler) in the benchmark's process, execution window ${s.windowS} s. Run time → handler started: p50 ${n0(s.lagMs.p50)} ms, p99 ${n0(s.lagMs.p99)} ms, max ${n0(s.lagMs.max)} ms over ${n0(s.lagMs.started)} runs (target p99 ≤ 1 s: ${s.lagMs.p99 <= 1000 ? 'met' : 'missed'}). The process's heap grew by ${(s.heapGrowthBytes / 2 ** 20).toFixed(1)} MiB while it materialised: a pass reads at most 64 buckets of 128 schedules, whatever the number of schedules.`,
    '',
  ];
}
