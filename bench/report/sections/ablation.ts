import { n0 } from '../format.js';
import type { RedisResult } from '../types.js';

/** Where fan-out time goes: plain addBulk with one spotter-jobs feature added at a time. */
export function ablationSection(red: RedisResult): string[] {
  if (!red.ablation.length) return [];
  const cell = (ms: number, bytes: number | undefined) => `${n0(ms)}${bytes === undefined ? '' : ` ms, ${n0(bytes)} B`}`;
  const rows = red.ablation.map((a) => {
    const f = red.fanout.find((x) => x.users === a.users);
    const b = a.bytesPerJob;
    return `| ${n0(a.users)} | ${cell(a.plain.median, b?.plain)} | ${cell(a.ids.median, b?.ids)} | ${cell(a.idsAndCoalescing.median, b?.idsAndCoalescing)} | ${f ? cell(f.spotterMs.median, b ? f.spotterBytesPerJob.median : undefined) : '–'} |`;
  });
  return [
    '### Where fan-out time goes',
    '',
    'The same plain `addBulk` of 1,000-job pages, adding one spotter-jobs feature at a time (ms, and Redis bytes per waiting job, median):',
    '',
    '| users | plain addBulk | + per-tick job ids | + coalescing (deduplication) | spotter-jobs fan-out |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Per-tick job ids make a fan-out redone after a crash add nothing twice; coalescing keeps a user from piling up jobs. ' +
      'Both are checked inside the same Lua call as the add (an EXISTS and a SET NX per job), so they cost Redis time, not round trips. ' +
      "spotter-jobs' fan-out also validates every user id and records its cursor after each page, yet adds faster and smaller jobs than the " +
      'plain ones with ids and coalescing: its job ids are short, its coalescing id is the user id, and its data does not repeat the tick.',
    '',
  ];
}
