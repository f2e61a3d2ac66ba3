import { mib, n0, ratio } from '../format.js';
import type { RedisResult } from '../types.js';

/** Bytes per retained completed job, and the long run's memory after each tick. */
export function memorySection(red: RedisResult): string[] {
  if (!red.memory) return [];
  const { spotter, bullmq } = red.memory.completedBytesPerJob;
  const lines = [
    '### Memory',
    '',
    `Per retained completed job: spotter-jobs ${n0(spotter)} B, plain BullMQ ${n0(bullmq)} B (${ratio(spotter, bullmq)}).`,
    '',
  ];
  const lr = red.longRun;
  if (lr.length) {
    lines.push(
      `Long run with the default retention (10,000 completed jobs per queue): ${lr.length} ticks of ${n0((lr[0]?.jobs ?? 0) / (lr[0]?.tick ?? 1))} users, used memory after each tick (MiB): ${lr.map((x) => mib(x.usedMemory)).join(', ')}. It levels off once the retention limit is reached.`,
      '',
    );
  }
  return lines;
}
