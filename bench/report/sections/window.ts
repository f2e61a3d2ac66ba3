import { mib, n0 } from '../format.js';
import type { RedisResult } from '../types.js';

/** The windowed fan-out at its largest size; every size is on its own page, bench-window.md. */
export function windowSection(red: RedisResult): string[] {
  const w = red.window?.[red.window.length - 1];
  if (!w) return [];
  return [
    '### Windowed fan-out: Redis memory during one tick',
    '',
    w.spotterNextPeak !== undefined && w.bullmqNextPeak !== undefined
      ? `At ${n0(w.users)} users a tick of a running service raises Redis' peak by ${mib(w.spotterNextPeak)} MiB for spotter-jobs against ${mib(w.bullmqNextPeak)} MiB for plain BullMQ (the first tick after an empty Redis, which also creates each user's history record: ${mib(w.spotterPeak)} against ${mib(w.bullmqPeak)} MiB); every size, and the chart, in [bench-window.md](bench-window.md).`
      : `At ${n0(w.users)} users the peak above idle is ${mib(w.spotterPeak)} MiB for spotter-jobs against ${mib(w.bullmqPeak)} MiB for plain BullMQ; every size, and the chart, in [bench-window.md](bench-window.md).`,
    '',
    '![Redis peak memory during a tick, against users](bench-window.svg)',
    '',
  ];
}
