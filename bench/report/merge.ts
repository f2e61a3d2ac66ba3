import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BenchResult, RedisResult } from './types.js';

/**
 * Several `--only` runs of the same code as one result: each scenario's figures from the last run
 * that measured it, on the first run's Redis (runs with `--only` have no other).
 */
export function mergeRuns(runs: string[]): BenchResult {
  const loaded = runs.map((f) => JSON.parse(readFileSync(resolve(f), 'utf8')) as BenchResult);
  const merged = JSON.parse(JSON.stringify(loaded[0])) as BenchResult;
  merged.mergedFrom = runs.map((f) => f.replace(/^.*bench\/results\//, 'bench/results/'));
  merged.mergedUntil = (loaded.at(-1) as BenchResult).date;
  const base = merged.redis[0] as RedisResult;
  for (const run of loaded.slice(1)) {
    const red = run.redis.find((x) => x.persistence === base.persistence);
    if (!red) continue;
    for (const [k, v] of Object.entries(red)) {
      if (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null) (base as Record<string, unknown>)[k] = v;
    }
    merged.sizes = { ...merged.sizes, ...run.sizes };
  }
  return merged;
}
