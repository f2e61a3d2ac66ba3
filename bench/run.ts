/**
 * `npm run bench [-- --quick]`: spotter-jobs side by side with plain BullMQ on the same Redis, in one
 * run. Starts its own redis-server (once without persistence, once with AOF everysec), repeats every
 * scenario, reports median/min/max and the ratio spotter-jobs / baseline, and writes
 * bench/results/<date>.json, docs/benchmarks.md and the charts in docs/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.js';
import { paginate } from '../src/handlers/types.js';
import type { KindConfig } from '../src/jobs/kinds.js';
import { Queues } from '../src/jobs/queues.js';
import { coalesceId, userJobId } from '../src/jobs/registry.js';
import { freePort, LocalRedis } from '../src/local-redis.js';
import { createLogger } from '../src/logger.js';
import { fanOut } from '../src/producers/fan-out.js';
import { windowFor } from '../src/producers/tick-consumer.js';
import { DeadLetters } from '../src/services/dead-letters.js';
import { UserHistory } from '../src/services/user-history.js';
import { JobMetrics } from '../src/web/metrics.js';
import { Consumers } from '../src/workers/consumer.js';
import { Exclusivity } from '../src/workers/exclusivity.js';
import { type BenchResult, resultsJson, windowReport, writeReport } from './report.js';

const ROOT = resolve(import.meta.dirname, '../..');
const QUICK = process.argv.includes('--quick');
/** `--only scale,fanout` runs just those scenarios (and writes no report), for working on one of them. */
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? new Set((process.argv[i + 1] ?? '').split(',')) : undefined;
})();
const want = (scenario: string) => !ONLY || ONLY.has(scenario);
const REPS = QUICK ? 1 : 3;
const NOOP = resolve(ROOT, 'bench/noop-handlers.mjs');
const CLI = resolve(ROOT, 'dist/cli.js');
const PLAIN_WORKER = resolve(ROOT, 'dist-bench/bench/plain-worker.js');

const sizes = {
  throughputJobs: QUICK ? 2_000 : 20_000,
  concurrency: QUICK ? [10, 50] : [10, 50, 200],
  fanout: QUICK ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000],
  drainUpTo: QUICK ? 10_000 : 100_000,
  scaleJobs: QUICK ? 4_000 : 40_000,
  processes: QUICK ? [1, 2] : [1, 2, 4],
  longRunTicks: QUICK ? 5 : 40,
  longRunUsers: QUICK ? 500 : 1_000,
  inProcessJobs: QUICK ? 20_000 : 200_000,
  window: QUICK ? [2_000, 10_000] : [10_000, 100_000, 1_000_000],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
let seq = 0;
const prefix = (kind: string) => `b${kind}${++seq}`;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] as number, min: s[0] as number, max: s[s.length - 1] as number, runs: xs };
}

async function usedMemory(conn: Redis): Promise<number> {
  const info = await conn.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function flush(conn: Redis): Promise<void> {
  await conn.flushall();
  await sleep(50);
}

/** spotter-jobs' worker for the sync queue with a no-op handler, started. */
function noopSync(
  conn: Redis,
  config: ReturnType<typeof loadConfig>,
  queues: Queues,
  log: ReturnType<typeof silentLog>,
  observe?: ConstructorParameters<typeof Consumers>[0]['observe'],
): Consumers {
  const consumers = new Consumers(
    {
      conn,
      config,
      queues,
      log,
      deadLetters: new DeadLetters(queues, config),
      handlers: { mode: 'module', listUsers: () => paginate([], 1), run: { sync: async () => null } },
      observe,
    },
    [config.kinds.sync as KindConfig],
  );
  consumers.start();
  return consumers;
}

/** Until the queue has nothing waiting, delayed or running. */
/** Redis memory of a prefix's user-history hashes (exact, not sampled) and the records they hold. */
async function historyMemory(conn: Redis, p: string): Promise<{ bytes: number; records: number }> {
  let cursor = '0';
  let bytes = 0;
  let records = 0;
  do {
    const [next, keys] = await conn.scan(cursor, 'MATCH', `${p}:spotter-jobs:history:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      bytes += Number((await conn.memory('USAGE', k, 'SAMPLES', '0')) ?? 0);
      records += await conn.hlen(k);
    }
  } while (cursor !== '0');
  return { bytes, records };
}

async function waitIdle(q: Queue): Promise<void> {
  for (;;) {
    const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    if ((c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c.active ?? 0) === 0) return;
    await sleep(20);
  }
}

/** Job options both sides use: the service's defaults, with completed jobs kept so they can be counted. */
function configFor(url: string, p: string, extra: Record<string, string> = {}) {
  return loadConfig({
    REDIS_URL: url,
    SPOTTER_JOBS_PREFIX: p,
    SPOTTER_JOBS_COMPLETED_KEEP: '100000000',
    SPOTTER_JOBS_LOG_LEVEL: 'info',
    ...extra,
  });
}

const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
/** Info-level logging, serialized for real but written nowhere: its cost counts, its volume does not. */
const silentLog = () =>
  createLogger({
    level: 'info',
    destination: new Writable({
      write(_chunk, _enc, cb) {
        cb();
      },
    }),
  });

async function waitDrained(conn: Redis, p: string, queue: string, n: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await conn.zcard(`${p}:${queue}:completed`);
    if (done >= n) return;
    if (Date.now() > deadline) throw new Error(`${queue}: ${done}/${n} completed before the deadline`);
    await sleep(10);
  }
}

/** Adds `n` jobs the way each side does: spotter through its fan-out, the baseline with plain addBulk. */
async function addJobs(side: 'spotter' | 'bullmq', conn: Redis, url: string, p: string, n: number): Promise<number> {
  const t0 = now();
  if (side === 'spotter') {
    const config = configFor(url, p);
    const queues = new Queues(conn, config, createLogger({ level: 'silent' }));
    const ids = users(n);
    await fanOut(
      {
        queues,
        config,
        log: createLogger({ level: 'silent' }),
        handlers: { mode: 'module', listUsers: (s) => paginate(ids, s), run: {} as never },
      },
      { kind: config.kinds.sync as KindConfig, tickId: `repeat:sync:${Date.now()}`, scheduledFor: Date.now(), spreadMs: 0 },
    );
    await queues.close();
  } else {
    await plainAddBulk(conn, p, n, 'plain');
  }
  return now() - t0;
}

/**
 * Where fan-out time goes: plain addBulk, then the same with per-tick job ids, then with coalescing
 * (deduplication) too. spotter-jobs' fan-out is the last plus validation and progress.
 */
async function fanoutAblation(conn: Redis, n: number): Promise<Record<AddVariant, { ms: number; bytesPerJob: number }>> {
  const out = {} as Record<AddVariant, { ms: number; bytesPerJob: number }>;
  for (const variant of ['plain', 'ids', 'idsAndCoalescing'] as AddVariant[]) {
    await flush(conn);
    const before = await usedMemory(conn);
    const t0 = now();
    await plainAddBulk(conn, prefix('abl'), n, variant);
    out[variant] = { ms: now() - t0, bytesPerJob: ((await usedMemory(conn)) - before) / n };
  }
  return out;
}

type AddVariant = 'plain' | 'ids' | 'idsAndCoalescing';

/** Plain BullMQ `addBulk` in pages of 1,000, optionally with spotter-jobs' ids and coalescing. */
async function plainAddBulk(conn: Redis, p: string, n: number, variant: AddVariant): Promise<void> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  const at = Date.now();
  for (let i = 0; i < n; i += 1000) {
    const chunk = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      chunk.push({
        name: 'user',
        data: { userId: `u${j}`, scheduledFor: at, tick: `repeat:sync:${at}` },
        opts: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 30_000 },
          removeOnComplete: { age: 86_400, count: 100_000_000 },
          removeOnFail: { age: 604_800 },
          ...(variant !== 'plain' ? { jobId: userJobId(`repeat:sync:${at}`, `u${j}`) } : {}),
          ...(variant === 'idsAndCoalescing' ? { deduplication: { id: coalesceId(`u${j}`), keepLastIfActive: true } } : {}),
        },
      });
    }
    await q.addBulk(chunk);
  }
  await q.close();
}

/** Node and Redis CPU time spent during a drain, per job (µs). */
interface DrainCpu {
  nodeUs: number;
  redisUs: number;
}

async function redisCpuSeconds(conn: Redis): Promise<number> {
  const info = await conn.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
}

/**
 * Drains `n` pre-added jobs in this process; returns ms. `jobs` says whose jobs are added (the
 * worker's side by default): plain BullMQ's worker on spotter-jobs' jobs separates what the jobs
 * cost (per-tick ids, coalescing) from what the worker does. `cpu` receives the CPU time per job.
 */
async function drainInProcess(
  side: 'spotter' | 'bullmq',
  conn: Redis,
  url: string,
  p: string,
  n: number,
  concurrency: number,
  env: Record<string, string> = {},
  opts: { jobs?: 'spotter' | 'bullmq'; cpu?: DrainCpu } = {},
): Promise<number> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  await q.pause();
  await addJobs(opts.jobs ?? side, conn, url, p, n);
  let close: () => Promise<void>;
  if (side === 'spotter') {
    const config = configFor(url, p, { SPOTTER_JOBS_SYNC_CONCURRENCY: String(concurrency), ...env });
    const log = silentLog();
    const queues = new Queues(conn, config, log);
    const metrics = new JobMetrics(new Registry());
    const consumers = noopSync(conn, config, queues, log, (qn, o, s) => metrics.observe(qn, o, s));
    close = async () => {
      await consumers.close();
      await queues.close();
    };
  } else {
    const w = new Worker('sync', async () => null, {
      connection: conn,
      prefix: p,
      concurrency,
      removeOnComplete: { age: 86_400, count: 100_000_000 },
    });
    w.on('error', () => {});
    await w.waitUntilReady();
    close = () => w.close();
  }
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuSeconds(conn);
  const t0 = now();
  await q.resume();
  await waitDrained(conn, p, 'sync', n);
  const ms = now() - t0;
  if (opts.cpu) {
    const cpu = process.cpuUsage(cpu0);
    opts.cpu.nodeUs = (cpu.user + cpu.system) / n;
    opts.cpu.redisUs = (((await redisCpuSeconds(conn)) - redis0) * 1e6) / n;
  }
  await close();
  await q.close();
  return ms;
}

/**
 * Starts a worker process. Its log goes to /dev/null, as a container's stdout costs the writer but not
 * the benchmark; readiness is read from /readyz (spotter-jobs) or a "ready" line (plain BullMQ).
 */
function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  readyzPort?: number,
): { child: ChildProcess; ready: Promise<void>; exited: Promise<void> } {
  const devNull = openSync('/dev/null', 'w');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', readyzPort ? devNull : 'pipe', 'ignore'],
  });
  closeSync(devNull);
  const ready = readyzPort
    ? (async () => {
        for (;;) {
          const ok = await fetch(`http://127.0.0.1:${readyzPort}/readyz`).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) return;
          await sleep(50);
        }
      })()
    : new Promise<void>((res) => {
        child.stdout?.once('data', () => {
          child.stdout?.resume();
          res();
        });
      });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return { child, ready, exited };
}

/** Drains `n` jobs with `k` worker processes of each side; returns ms from resume to the last completion. */
async function drainProcesses(
  side: 'spotter' | 'bullmq',
  conn: Redis,
  url: string,
  p: string,
  n: number,
  k: number,
  concurrency: number,
): Promise<number> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  await q.pause();
  await addJobs(side, conn, url, p, n);
  const ports = await Promise.all(Array.from({ length: k }, () => freePort()));
  const procs = ports.map((port) =>
    side === 'spotter'
      ? startProcess(
          [CLI, 'worker', '--queues', 'sync'],
          {
            REDIS_URL: url,
            SPOTTER_JOBS_PREFIX: p,
            SPOTTER_JOBS_HANDLERS: NOOP,
            SPOTTER_JOBS_SYNC_CONCURRENCY: String(concurrency),
            SPOTTER_JOBS_WORKER_HTTP_PORT: String(port),
            SPOTTER_JOBS_COMPLETED_KEEP: '100000000',
            SPOTTER_JOBS_LOG_LEVEL: 'info',
          },
          port,
        )
      : startProcess([PLAIN_WORKER], { REDIS_URL: url, PREFIX: p, CONCURRENCY: String(concurrency) }),
  );
  await Promise.all(procs.map((x) => x.ready));
  await sleep(200);
  const t0 = now();
  await q.resume();
  await waitDrained(conn, p, 'sync', n);
  const ms = now() - t0;
  for (const x of procs) x.child.kill('SIGTERM');
  await Promise.all(procs.map((x) => x.exited));
  await q.close();
  return ms;
}

/** The in-process ticker Spotter had: no Redis, a semaphore of `concurrency`, no-op work. */
async function inProcessTicker(n: number, concurrency: number): Promise<number> {
  const t0 = now();
  let next = 0;
  const run = async () => {
    while (next < n) {
      next++;
      await Promise.resolve(null);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, run));
  return now() - t0;
}

async function tickLag(url: string, conn: Redis): Promise<{ spotter: number[]; bullmq: number[] }> {
  const out = { spotter: [] as number[], bullmq: [] as number[] };
  const ticks = QUICK ? 3 : 8;
  // spotter-jobs: a 1 s schedule, producer and worker in-process; lag = tick due → first user job started.
  {
    const p = prefix('lag');
    const dir = mkdtempSync(join(tmpdir(), 'bench-lag-'));
    const ledger = join(dir, 'starts');
    const proc = startProcess([CLI, 'all'], {
      REDIS_URL: url,
      SPOTTER_JOBS_PREFIX: p,
      SPOTTER_JOBS_HANDLERS: resolve(ROOT, 'bench/lag-handlers.mjs'),
      BENCH_USERS: '100',
      BENCH_LEDGER: ledger,
      SPOTTER_SYNC_INTERVAL: '1s',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
      SPOTTER_JOBS_HTTP_PORT: '0',
      SPOTTER_JOBS_LOG_LEVEL: 'warn',
    });
    const { readFileSync, existsSync } = await import('node:fs');
    for (;;) {
      const lines = existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];
      const firsts = new Map<string, number>();
      for (const l of lines) {
        const [scheduled, started] = l.split(' ').map(Number) as [number, number];
        const key = String(scheduled);
        if (!firsts.has(key) || (firsts.get(key) as number) > started - scheduled) firsts.set(key, started - scheduled);
      }
      if (firsts.size > ticks) {
        out.spotter = [...firsts.values()].slice(1, ticks + 1);
        break;
      }
      await sleep(200);
    }
    proc.child.kill('SIGTERM');
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  // Plain BullMQ: a 1 s job scheduler and a worker; lag = due → the scheduler's job started.
  {
    const p = prefix('lagb');
    const q = new Queue('tick', { connection: conn, prefix: p });
    const lags: number[] = [];
    const w = new Worker(
      'tick',
      async (job) => {
        lags.push(Date.now() - (job.timestamp + (job.opts.delay ?? 0)));
      },
      { connection: conn, prefix: p },
    );
    await q.upsertJobScheduler('tick', { every: 1000 });
    while (lags.length <= ticks) await sleep(100);
    await w.close();
    await q.close();
    out.bullmq = lags.slice(1, ticks + 1);
  }
  return out;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const result: BenchResult = { date, quick: QUICK, reps: REPS, machine, redis: [], sizes };
  for (const persistence of QUICK || ONLY ? ['none'] : ['none', 'aof-everysec']) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
    const redis = new LocalRedis({ port: await freePort(), dir, appendonly: persistence !== 'none' });
    await redis.start();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const version = /redis_version:(\S+)/.exec(await conn.info('server'))?.[1] ?? '?';
    const r: BenchResult['redis'][number] = {
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
    };
    result.redis.push(r);
    const log = (s: string) => process.stderr.write(`[${persistence}] ${s}\n`);

    for (const c of want('throughput') ? sizes.concurrency : []) {
      const row = { concurrency: c, jobs: sizes.throughputJobs, spotter: [] as number[], bullmq: [] as number[] };
      for (let i = 0; i < REPS; i++) {
        for (const side of ['bullmq', 'spotter'] as const) {
          await flush(conn);
          const ms = await drainInProcess(side, conn, redis.url, prefix('t'), sizes.throughputJobs, c);
          row[side].push(sizes.throughputJobs / (ms / 1000));
        }
      }
      r.throughput.push({ concurrency: c, jobs: row.jobs, spotter: stats(row.spotter), bullmq: stats(row.bullmq) });
      log(`throughput c=${c}: spotter ${stats(row.spotter).median.toFixed(0)}/s, bullmq ${stats(row.bullmq).median.toFixed(0)}/s`);
    }

    if (want('throughput')) {
      // Where worker time goes, at concurrency 50: plain BullMQ's worker on its own jobs, the same
      // worker on jobs added by spotter-jobs' fan-out (per-tick ids, coalescing), and spotter-jobs'
      // worker on them. One round runs the three one right after the other.
      const c = 50;
      const variants = [
        ['bullmq', 'bullmq'],
        ['bullmq', 'spotter'],
        ['spotter', 'spotter'],
      ] as const;
      const runs = variants.map(() => ({ perSecond: [] as number[], nodeUs: [] as number[], redisUs: [] as number[] }));
      for (let i = 0; i < REPS; i++) {
        for (const [v, [side, jobs]] of variants.entries()) {
          await flush(conn);
          const cpu: DrainCpu = { nodeUs: 0, redisUs: 0 };
          const ms = await drainInProcess(side, conn, redis.url, prefix('wa'), sizes.throughputJobs, c, {}, { jobs, cpu });
          const run = runs[v] as (typeof runs)[number];
          run.perSecond.push(sizes.throughputJobs / (ms / 1000));
          run.nodeUs.push(cpu.nodeUs);
          run.redisUs.push(cpu.redisUs);
        }
      }
      const row = (k: number) => {
        const x = runs[k] as (typeof runs)[number];
        return { perSecond: stats(x.perSecond), nodeUs: stats(x.nodeUs), redisUs: stats(x.redisUs) };
      };
      r.workerAblation = { concurrency: c, jobs: sizes.throughputJobs, plain: row(0), plainWorkerSpotterJobs: row(1), spotter: row(2) };
      const w = r.workerAblation;
      log(
        `worker ablation c=${c}: plain ${w.plain.perSecond.median.toFixed(0)}/s (${w.plain.nodeUs.median.toFixed(1)} µs node, ${w.plain.redisUs.median.toFixed(1)} µs redis), plain worker on spotter jobs ${w.plainWorkerSpotterJobs.perSecond.median.toFixed(0)}/s (${w.plainWorkerSpotterJobs.nodeUs.median.toFixed(1)}, ${w.plainWorkerSpotterJobs.redisUs.median.toFixed(1)}), spotter ${w.spotter.perSecond.median.toFixed(0)}/s (${w.spotter.nodeUs.median.toFixed(1)}, ${w.spotter.redisUs.median.toFixed(1)})`,
      );
    }

    if (want('policies')) {
      // The per-job cost of the policies, side by side at concurrency 50:
      // - bare: sync without its exclusivity group and without the history record (today's work per job);
      // - shipped: as shipped, sync alone in its group (the lane: no per-user keys);
      // - shared: as shipped while write-back is active in the group too, so sync takes per-user keys;
      // - none: without the exclusivity group (history on); and plain BullMQ.
      const c = 50;
      const runs = {
        bare: [] as number[],
        exclusive: [] as number[],
        shared: [] as number[],
        none: [] as number[],
        bullmq: [] as number[],
      };
      let historyBytes = 0;
      for (let i = 0; i < REPS; i++) {
        for (const variant of ['bullmq', 'bare', 'exclusive', 'shared', 'none'] as const) {
          await flush(conn);
          const p = prefix('pol');
          const side = variant === 'bullmq' ? 'bullmq' : 'spotter';
          const record = UserHistory.prototype.record;
          if (variant === 'bare') UserHistory.prototype.record = () => {};
          // Another process's write-back, active in the group: one of its jobs every 200 ms.
          let writeBack: NodeJS.Timeout | undefined;
          const other = variant === 'shared' ? new Redis(redis.url, { maxRetriesPerRequest: null }) : undefined;
          const peer = other && new Exclusivity(other, p, 30_000);
          if (peer) {
            const run = async () => (await peer.enter('playlists', 'write-back', 'nobody', 'wb'))?.release();
            await run();
            // Its last call may still be on the wire when the connection closes below.
            writeBack = setInterval(() => void run().catch(() => {}), 200);
          }
          try {
            const ms = await drainInProcess(
              side,
              conn,
              redis.url,
              p,
              sizes.throughputJobs,
              c,
              variant === 'none' || variant === 'bare' ? { SPOTTER_JOBS_SYNC_EXCLUSIVE: 'none' } : {},
            );
            runs[variant].push(sizes.throughputJobs / (ms / 1000));
          } finally {
            UserHistory.prototype.record = record;
            clearInterval(writeBack);
            await peer?.close();
            other?.disconnect();
          }
          if (variant === 'exclusive') {
            const h = await historyMemory(conn, p);
            if (h.records) historyBytes = h.bytes / h.records;
          }
        }
      }
      r.policies = {
        concurrency: c,
        jobs: sizes.throughputJobs,
        bare: stats(runs.bare),
        exclusive: stats(runs.exclusive),
        shared: stats(runs.shared),
        none: stats(runs.none),
        bullmq: stats(runs.bullmq),
        historyBytesPerUser: historyBytes,
      };
      log(
        `policies c=${c}: bare ${stats(runs.bare).median.toFixed(0)}/s, as shipped ${stats(runs.exclusive).median.toFixed(0)}/s, shared group ${stats(runs.shared).median.toFixed(0)}/s, no exclusivity ${stats(runs.none).median.toFixed(0)}/s, bullmq ${stats(runs.bullmq).median.toFixed(0)}/s; history ${historyBytes.toFixed(0)} B/user`,
      );
    }

    for (const n of want('window') ? sizes.window : []) {
      // Two ticks of n users while one worker (in this process, concurrency 50) drains them:
      // spotter-jobs' windowed fan-out against plain BullMQ adding every job at once. Redis memory
      // above the idle level before each tick is sampled every 20 ms; both keep completed jobs as the
      // service does (10,000). The first tick starts from an empty Redis (it also creates each user's
      // history record); the second is the steady state, with the records and retained jobs in place.
      const row = {
        spotterPeak: 0,
        bullmqPeak: 0,
        spotterMs: 0,
        bullmqMs: 0,
        historyBytes: 0,
        spotterNextPeak: 0,
        bullmqNextPeak: 0,
        spotterNextMs: 0,
        bullmqNextMs: 0,
      };
      const measured = async (run: () => Promise<void>): Promise<{ peak: number; ms: number }> => {
        const idle = await usedMemory(conn);
        let peak = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            peak = Math.max(peak, (await usedMemory(conn)) - idle);
            await sleep(20);
          }
        })();
        const t0 = now();
        await run();
        const ms = now() - t0;
        sampling = false;
        await sampler;
        return { peak, ms };
      };
      for (const side of ['bullmq', 'spotter'] as const) {
        await flush(conn);
        const p = prefix('w');
        let ticks: Array<{ peak: number; ms: number }> = [];
        if (side === 'spotter') {
          const config = loadConfig({ REDIS_URL: redis.url, SPOTTER_JOBS_PREFIX: p, SPOTTER_JOBS_LOG_LEVEL: 'info' });
          const slog = silentLog();
          const queues = new Queues(conn, config, slog);
          const kind = config.kinds.sync as KindConfig;
          const consumers = noopSync(conn, config, queues, slog);
          const ids = users(n);
          const tick = (i: number) => async () => {
            const at = Date.now() + i;
            await fanOut(
              { queues, config, log: slog, handlers: { mode: 'module', listUsers: (s) => paginate(ids, s), run: {} as never } },
              { kind, tickId: `repeat:sync:${at}`, scheduledFor: at, spreadMs: 0, window: windowFor(config, kind) },
            );
            await waitIdle(queues.get('sync'));
          };
          ticks = [await measured(tick(0)), await measured(tick(1))];
          // The users' history records (issue: one user's history) stay after the tick, one per user.
          await consumers.close();
          row.historyBytes = (await historyMemory(conn, p)).bytes;
          await queues.close();
        } else {
          const w = new Worker('sync', async () => null, {
            connection: conn,
            prefix: p,
            concurrency: 50,
            removeOnComplete: { age: 86_400, count: 10_000 },
          });
          w.on('error', () => {});
          const q = new Queue('sync', { connection: conn, prefix: p });
          const tick = () => async () => {
            await plainAddBulk(conn, p, n, 'plain');
            await waitIdle(q);
          };
          ticks = [await measured(tick()), await measured(tick())];
          await w.close();
          await q.close();
        }
        const [first, next] = ticks as [{ peak: number; ms: number }, { peak: number; ms: number }];
        if (side === 'spotter')
          Object.assign(row, { spotterPeak: first.peak, spotterMs: first.ms, spotterNextPeak: next.peak, spotterNextMs: next.ms });
        else Object.assign(row, { bullmqPeak: first.peak, bullmqMs: first.ms, bullmqNextPeak: next.peak, bullmqNextMs: next.ms });
      }
      r.window ??= [];
      r.window.push({ users: n, ...row });
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      log(
        `window ${n}: peak above idle, first tick: spotter ${mib(row.spotterPeak)} MiB (history ${mib(row.historyBytes)} MiB), bullmq ${mib(row.bullmqPeak)} MiB; next tick: spotter ${mib(row.spotterNextPeak)} MiB, bullmq ${mib(row.bullmqNextPeak)} MiB; done in ${(row.spotterMs / 1000).toFixed(1)} s / ${(row.bullmqMs / 1000).toFixed(1)} s, next ${(row.spotterNextMs / 1000).toFixed(1)} s / ${(row.bullmqNextMs / 1000).toFixed(1)} s`,
      );
    }
    // The page shows Redis without persistence, like the README's figures (docs/benchmarks.md has
    // the AOF half too); a quick run (CI) checks that the scenario works, its figures are not published.
    if (r.window?.length && !QUICK && persistence === 'none') windowReport(result, ROOT, persistence);

    for (const n of want('fanout') ? sizes.fanout : []) {
      const reps = n >= 1_000_000 ? Math.min(REPS, 3) : REPS;
      const row = {
        spotterMs: [] as number[],
        bullmqMs: [] as number[],
        spotterMem: [] as number[],
        bullmqMem: [] as number[],
        spotterDrain: [] as number[],
        bullmqDrain: [] as number[],
      };
      for (let i = 0; i < reps; i++) {
        for (const side of ['bullmq', 'spotter'] as const) {
          await flush(conn);
          const p = prefix('f');
          const before = await usedMemory(conn);
          const ms = await addJobs(side, conn, redis.url, p, n);
          const mem = (await usedMemory(conn)) - before;
          row[side === 'spotter' ? 'spotterMs' : 'bullmqMs'].push(ms);
          row[side === 'spotter' ? 'spotterMem' : 'bullmqMem'].push(mem);
          if (n <= sizes.drainUpTo) {
            await flush(conn);
            const drain = await drainProcesses(side, conn, redis.url, prefix('d'), n, 1, 50);
            row[side === 'spotter' ? 'spotterDrain' : 'bullmqDrain'].push(drain);
          }
        }
      }
      r.fanout.push({
        users: n,
        spotterMs: stats(row.spotterMs),
        bullmqMs: stats(row.bullmqMs),
        spotterBytesPerJob: stats(row.spotterMem.map((m) => m / n)),
        bullmqBytesPerJob: stats(row.bullmqMem.map((m) => m / n)),
        spotterDrainMs: row.spotterDrain.length ? stats(row.spotterDrain) : undefined,
        bullmqDrainMs: row.bullmqDrain.length ? stats(row.bullmqDrain) : undefined,
      });
      log(`fan-out ${n}: spotter ${stats(row.spotterMs).median.toFixed(0)} ms, bullmq ${stats(row.bullmqMs).median.toFixed(0)} ms`);
    }
    await flush(conn);

    if (persistence === 'none') {
      for (const n of !want('ablation') ? [] : QUICK ? [10_000] : [10_000, 100_000]) {
        const runs: Array<Record<AddVariant, { ms: number; bytesPerJob: number }>> = [];
        for (let i = 0; i < REPS; i++) runs.push(await fanoutAblation(conn, n));
        const pick = (k: AddVariant) => stats(runs.map((x) => x[k].ms));
        const bytes = (k: AddVariant) => stats(runs.map((x) => x[k].bytesPerJob)).median;
        r.ablation.push({
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

      for (const k of want('scale') ? sizes.processes : []) {
        const row = { spotter: [] as number[], bullmq: [] as number[] };
        for (let i = 0; i < REPS; i++) {
          for (const side of ['bullmq', 'spotter'] as const) {
            await flush(conn);
            const ms = await drainProcesses(side, conn, redis.url, prefix('s'), sizes.scaleJobs, k, 50);
            row[side].push(sizes.scaleJobs / (ms / 1000));
          }
        }
        r.scale.push({ processes: k, jobs: sizes.scaleJobs, spotter: stats(row.spotter), bullmq: stats(row.bullmq) });
        log(`scale ${k} processes: spotter ${stats(row.spotter).median.toFixed(0)}/s, bullmq ${stats(row.bullmq).median.toFixed(0)}/s`);
      }

      // Memory per retained completed job: drain 10,000 and compare with an empty Redis.
      if (want('memory')) {
        const mem: Record<'spotter' | 'bullmq', number> = { spotter: 0, bullmq: 0 };
        for (const side of ['bullmq', 'spotter'] as const) {
          await flush(conn);
          const before = await usedMemory(conn);
          await drainInProcess(side, conn, redis.url, prefix('m'), 10_000, 50);
          mem[side] = ((await usedMemory(conn)) - before) / 10_000;
        }
        r.memory = { completedBytesPerJob: mem };
      }

      // A long run with the default retention (10,000 completed per queue): memory must level off.
      if (want('longrun')) {
        await flush(conn);
        const p = prefix('long');
        const config = loadConfig({ REDIS_URL: redis.url, SPOTTER_JOBS_PREFIX: p, SPOTTER_JOBS_LOG_LEVEL: 'warn' });
        const slog = silentLog();
        const queues = new Queues(conn, config, slog);
        const ids = users(sizes.longRunUsers);
        const consumers = noopSync(conn, config, queues, slog);
        for (let t = 1; t <= sizes.longRunTicks; t++) {
          await fanOut(
            { queues, config, log: slog, handlers: { mode: 'module', listUsers: (s) => paginate(ids, s), run: {} as never } },
            { kind: config.kinds.sync as KindConfig, tickId: `repeat:sync:${t}`, scheduledFor: t, spreadMs: 0 },
          );
          for (;;) {
            const c = await queues.get('sync').getJobCounts('waiting', 'active');
            if ((c.waiting ?? 0) + (c.active ?? 0) === 0) break;
            await sleep(20);
          }
          r.longRun.push({ tick: t, jobs: t * sizes.longRunUsers, usedMemory: await usedMemory(conn) });
        }
        await consumers.close();
        await queues.close();
        log(`long run: memory ${r.longRun.map((x) => Math.round(x.usedMemory / 2 ** 20)).join(' → ')} MiB`);
      }

      if (want('lag')) {
        const lag = await tickLag(redis.url, conn);
        r.tickLag = { spotter: stats(lag.spotter), bullmq: stats(lag.bullmq) };
        log(`tick lag: spotter ${r.tickLag.spotter.median} ms, bullmq ${r.tickLag.bullmq.median} ms`);
      }
      if (want('inprocess')) {
        const inproc: number[] = [];
        for (let i = 0; i < REPS; i++) inproc.push(sizes.inProcessJobs / ((await inProcessTicker(sizes.inProcessJobs, 50)) / 1000));
        r.inProcess = { jobs: sizes.inProcessJobs, perSecond: stats(inproc) };
      }
    }
    conn.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const stamp = date.slice(0, 10);
  mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
  const file = resolve(ROOT, `bench/results/${stamp}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, resultsJson(result));
  if (ONLY) return;
  if (!QUICK) writeReport(result, ROOT);
  process.stderr.write(`results: ${file}${QUICK ? '' : ', docs/benchmarks.md, docs/bench-*.svg'}\n`);
}

await main();
