/**
 * Rewrites the docs from saved figures, without running the benchmark:
 * - `node dist-bench/bench/report.js bench/results/<date>.json`: docs/benchmarks.md and its charts;
 * - `… <file> --window`: only the windowed fan-out's page (results of `npm run bench -- --only window`);
 * - `… --merge <out.json> <run.json>…`: merges `--only` runs (each scenario from the last run that
 *   measured it) into out.json, then writes both pages from it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeReport } from './report/benchmarks-page.js';
import { mergeRuns } from './report/merge.js';
import { resultsJson } from './report/results-json.js';
import type { BenchResult, RedisResult } from './report/types.js';
import { windowReport } from './report/window-page.js';

const root = resolve(import.meta.dirname, '../..');
const [first, ...rest] = process.argv.slice(2);

if (first === '--merge') {
  const [out, ...runs] = rest as [string, ...string[]];
  const merged = mergeRuns(runs);
  writeFileSync(resolve(out), resultsJson(merged));
  writeReport(merged, root);
  windowReport(merged, root, (merged.redis[0] as RedisResult).persistence);
} else if (first) {
  const saved = JSON.parse(readFileSync(resolve(first), 'utf8')) as BenchResult;
  if (process.argv.includes('--window')) windowReport(saved, root, 'none');
  else writeReport(saved, root);
}
