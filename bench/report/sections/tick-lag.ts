import { n0 } from '../format.js';
import type { RedisResult } from '../types.js';

export function tickLagSection(red: RedisResult): string[] {
  const lag = red.tickLag;
  if (!lag) return [];
  return [
    '### Tick lag',
    '',
    `Scheduled time → first per-user job started (spotter-jobs: scheduler, producer fan-out, worker; 100 users, \`all\` process): median ${n0(lag.spotter.median)} ms (${n0(lag.spotter.min)}–${n0(lag.spotter.max)}). Plain BullMQ job scheduler → its job started: median ${n0(lag.bullmq.median)} ms (${n0(lag.bullmq.min)}–${n0(lag.bullmq.max)}).`,
    '',
  ];
}
