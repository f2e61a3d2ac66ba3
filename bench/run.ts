/**
 * `npm run bench [-- --quick] [-- --only <scenario>,…]`: spotter-jobs side by side with plain BullMQ on
 * the same Redis, in one run. Starts its own redis-server (once without persistence, once with AOF
 * everysec), repeats every scenario, reports median/min/max and the ratio spotter-jobs / baseline, and
 * writes bench/results/<date>.json, docs/benchmarks.md and the charts in docs/.
 *
 * `--quick` (CI) runs every scenario small, once, without persistence, and publishes nothing but its
 * results file. `--only` runs just the named scenarios without persistence and writes no report, for
 * working on one of them (`node dist-bench/bench/report.js --merge` puts such runs together).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, LocalRedis } from '../src/redis/local.js';
import { ROOT } from './lib/paths.js';
import { flush } from './lib/redis.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { type Sizes, sizesFor } from './lib/sizes.js';
import { writeReport } from './report/benchmarks-page.js';
import { resultsJson } from './report/results-json.js';
import type { BenchResult, RedisResult } from './report/types.js';
import { ablation } from './scenarios/ablation.js';
import { fair } from './scenarios/fair.js';
import { fanout } from './scenarios/fanout.js';
import { inProcess } from './scenarios/in-process.js';
import { longRun } from './scenarios/long-run.js';
import { makespan } from './scenarios/makespan.js';
import { memory } from './scenarios/memory.js';
import { policies } from './scenarios/policies.js';
import { scale } from './scenarios/scale.js';
import { subjectSchedules } from './scenarios/subject-schedules.js';
import { throughput } from './scenarios/throughput.js';
import { tickLag } from './scenarios/tick-lag.js';
import { window } from './scenarios/window.js';
import { workerAblation } from './scenarios/worker-ablation.js';

/** In this order, on every Redis the run starts. */
const everyRedis: Scenario[] = [throughput, workerAblation, policies, window, fanout, makespan];
/** Then these, on the Redis without persistence only. */
const withoutPersistence: Scenario[] = [ablation, scale, memory, longRun, tickLag, inProcess, subjectSchedules, fair];

interface Options {
  quick: boolean;
  only: Set<string> | undefined;
  reps: number;
  sizes: Sizes;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--only');
  const only = i >= 0 ? new Set((argv[i + 1] ?? '').split(',')) : undefined;
  return { quick, only, reps: quick ? 1 : 3, sizes: sizesFor(quick) };
}

/** A Redis's figures before any scenario ran; the keys in the order the results files have them. */
function emptyFigures(persistence: string, version: string): RedisResult {
  return {
    persistence,
    version,
    throughput: [],
    ablation: [],
    fanout: [],
    scale: [],
    memory: undefined,
    longRun: [],
    tickLag: undefined,
    inProcess: undefined,
    policies: undefined,
    window: [],
    makespan: undefined,
  };
}

/** Starts a private redis-server with the given persistence and runs the wanted scenarios on it. */
async function runOn(persistence: string, opts: Options, result: BenchResult): Promise<void> {
  const want = (s: Scenario) => !opts.only || opts.only.has(s.name);
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const redis = new LocalRedis({ port: await freePort(), dir, appendonly: persistence !== 'none' });
  await redis.start();
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const version = /redis_version:(\S+)/.exec(await conn.info('server'))?.[1] ?? '?';
  const red = emptyFigures(persistence, version);
  result.redis.push(red);
  const log = (s: string) => process.stderr.write(`[${persistence}] ${s}\n`);
  const { quick, reps, sizes } = opts;
  const ctx: BenchContext = { conn, url: redis.url, persistence, quick, reps, sizes, result, red, log };
  for (const s of everyRedis) if (want(s)) await s.run(ctx);
  await flush(conn);
  if (persistence === 'none') for (const s of withoutPersistence) if (want(s)) await s.run(ctx);
  conn.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv);
  const date = new Date().toISOString();
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const result: BenchResult = { date, quick: opts.quick, reps: opts.reps, machine, redis: [], sizes: opts.sizes };
  for (const persistence of opts.quick || opts.only ? ['none'] : ['none', 'aof-everysec']) await runOn(persistence, opts, result);
  mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
  const file = resolve(ROOT, `bench/results/${date.slice(0, 10)}${opts.quick ? '-quick' : ''}.json`);
  writeFileSync(file, resultsJson(result));
  if (opts.only) return;
  if (!opts.quick) writeReport(result, ROOT);
  process.stderr.write(`results: ${file}${opts.quick ? '' : ', docs/benchmarks.md, docs/bench-*.svg'}\n`);
}

await main();
