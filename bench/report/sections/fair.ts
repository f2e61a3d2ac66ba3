import { n0, paired, s1 } from '../format.js';
import type { RedisResult } from '../types.js';

/** Fair share: the small owner's wait in a flood against the bound and plain BullMQ, and what fairness costs. */
export function fairSection(red: RedisResult): string[] {
  const f = red.fair;
  if (!f) return [];
  const bound = (alone: number) => 2 * alone + 1000;
  const met = (ms: number, alone: number) => (ms <= bound(alone) ? 'met' : '**missed**');
  return [
    '### Fair share: one owner floods a kind, another adds 10 jobs a second later',
    '',
    `Item jobs of ${f.handlerMs} ms; the second owner's 10 jobs are added ${s1(f.afterMs)} s into the first owner's flood. Bound: 2 × (the 10 alone on the same capacity) + 1 s. "spread": the flood over many item ids and kinds (queues) of the same owner, each kind with its own slots; the 10 go to the first kind. The same run, both sides.`,
    '',
    '| variant | flood | kinds × concurrency | the 10 alone | the 10 in the flood: spotter-jobs | plain BullMQ | bound | spotter-jobs | flood done: spotter-jobs | plain BullMQ |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...f.starvation.map(
      (r) =>
        `| ${r.variant} (${n0(r.items)} item ids) | ${n0(r.flood)} | ${r.kinds} × ${r.concurrency} | ${s1(r.spotter.aloneMs)} s / ${s1(r.bullmq.aloneMs)} s | ${s1(r.spotter.smallMs)} s | ${s1(r.bullmq.smallMs)} s | ${s1(bound(r.spotter.aloneMs))} s | ${met(r.spotter.smallMs, r.spotter.aloneMs)} | ${s1(r.spotter.floodMs)} s | ${s1(r.bullmq.floodMs)} s |`,
    ),
    '',
    `The cost: one owner's ${n0(f.cost.jobs)} no-op jobs added and run end to end at concurrency ${f.cost.concurrency}, the kind fair and not: ${n0(f.cost.fair.median)} against ${n0(f.cost.plain.median)} jobs/s, ${paired(f.cost.fair, f.cost.plain)} (target ≥ 0.9×).`,
    '',
  ];
}
