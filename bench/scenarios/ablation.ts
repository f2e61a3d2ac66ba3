/**
 * Where fan-out time goes: plain addBulk, then the same with per-tick job ids, then with coalescing
 * (deduplication) too. spotter-jobs' fan-out is the last plus validation and progress.
 */
import type { Redis } from 'ioredis';
import { type AddVariant, plainAddBulk } from '../lib/add-jobs.js';
import { now } from '../lib/clock.js';
import { prefix } from '../lib/prefix.js';
import { flush, usedMemory } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

type Figures = Record<AddVariant, { ms: number; bytesPerJob: number }>;

export const ablation: Scenario = {
  name: 'ablation',
  async run({ conn, quick, reps, red, log }) {
    for (const n of quick ? [10_000] : [10_000, 100_000]) {
      const runs: Figures[] = [];
      for (let i = 0; i < reps; i++) runs.push(await fanoutAblation(conn, n));
      const pick = (k: AddVariant) => stats(runs.map((x) => x[k].ms));
      const bytes = (k: AddVariant) => stats(runs.map((x) => x[k].bytesPerJob)).median;
      red.ablation.push({
        users: n,
        plain: pick('plain'),
        ids: pick('ids'),
        idsAndCoalescing: pick('idsAndCoalescing'),
        bytesPerJob: { plain: bytes('plain'), ids: bytes('ids'), idsAndCoalescing: bytes('idsAndCoalescing') },
      });
      log(
        `fan-out ablation ${n}: plain ${pick('plain').median.toFixed(0)} ms, +ids ${pick('ids').median.toFixed(0)} ms, +coalescing ${pick('idsAndCoalescing').median.toFixed(0)} ms`,
      );
    }
  },
};

/** One round: each variant adds `n` jobs to an empty Redis; its time and Redis bytes per job. */
async function fanoutAblation(conn: Redis, n: number): Promise<Figures> {
  const out = {} as Figures;
  for (const variant of ['plain', 'ids', 'idsAndCoalescing'] as AddVariant[]) {
    await flush(conn);
    const before = await usedMemory(conn);
    const t0 = now();
    await plainAddBulk(conn, prefix('abl'), n, variant);
    out[variant] = { ms: now() - t0, bytesPerJob: ((await usedMemory(conn)) - before) / n };
  }
  return out;
}
