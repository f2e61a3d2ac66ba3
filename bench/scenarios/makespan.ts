/**
 * Tick makespan: from a tick's due time to its last job finished, which is how long an operator waits
 * until every user is synced. n users, a handler that waits 20 ms, two worker processes at
 * concurrency 50, against the ideal n × 20 ms / (2 × 50). spotter-jobs: a producer process fans out a
 * tick due a second ahead, with its window (the default) and without; plain BullMQ: at the due time
 * the benchmark adds every job with addBulk, for the same two workers. One round runs the three one
 * right after the other. Each run also says where the time went: when the first job started, when
 * every job was added, a job's time in its slot, and the CPU each side spent per job.
 */
import type { Redis } from 'ioredis';
import type { KindConfig } from '../../src/config/kind-config.js';
import { Queues } from '../../src/jobs/queues.js';
import { trigger } from '../../src/ops/trigger.js';
import { freePort } from '../../src/redis/local.js';
import { lastTick } from '../../src/schedules/tick-record.js';
import { plainAddBulk } from '../lib/add-jobs.js';
import { sleep } from '../lib/clock.js';
import { waitDrained } from '../lib/drained.js';
import { type JobTimes, jobTimes } from '../lib/job-times.js';
import { CLI, PLAIN_WORKER, SLEEP_HANDLERS } from '../lib/paths.js';
import { prefix } from '../lib/prefix.js';
import { cpuMeter, processCpuMs } from '../lib/proc-cpu.js';
import { flush } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { configFor, silentLog } from '../lib/spotter.js';
import { allReady, startProcess } from '../lib/start-process.js';
import { stats } from '../lib/stats.js';
import type { MakespanSide } from '../report/types.js';

const HANDLER_MS = 20;
const PROCESSES = 2;
const CONCURRENCY = 50;
/** How far ahead of now the tick is due: every process is up and idle by then. */
const LEAD_MS = 1000;

/** One run, in ms from the due time, and CPU per job (µs): the worker processes, the adding side, Redis. */
interface Run extends JobTimes {
  addedMs: number;
  workersUs: number;
  addingUs: number;
  redisUs: number;
}

type Variant = 'bullmq' | 'window' | 'noWindow' | 'noFetchAhead';
const variants: Variant[] = ['bullmq', 'window', 'noWindow', 'noFetchAhead'];
/** Each spotter-jobs variant: its window, and whether its workers fetch jobs ahead of their slots. */
const spotterVariants: Record<Exclude<Variant, 'bullmq'>, [window: string, fetchAhead: boolean]> = {
  window: ['auto', true],
  noWindow: ['0', true],
  noFetchAhead: ['auto', false],
};

export const makespan: Scenario = {
  name: 'makespan',
  async run({ conn, url, sizes, red, log }) {
    const n = sizes.makespanUsers;
    const runs: Record<Variant, Run[]> = { bullmq: [], window: [], noWindow: [], noFetchAhead: [] };
    for (let i = 0; i < sizes.swingRounds; i++) {
      for (const v of variants) {
        await flush(conn);
        const run = v === 'bullmq' ? await bullmqRun(conn, url, n) : await spotterRun(conn, url, n, ...spotterVariants[v]);
        runs[v].push(run);
        log(
          `makespan ${n} ${v}: ${run.lastMs.toFixed(0)} ms (first job started after ${run.firstMs.toFixed(0)} ms, all added after ${run.addedMs.toFixed(0)} ms, ${run.slotMs.toFixed(1)} ms per job in its slot; CPU per job: workers ${run.workersUs.toFixed(0)} µs, adding ${run.addingUs.toFixed(0)} µs, Redis ${run.redisUs.toFixed(0)} µs)`,
        );
      }
    }
    const idealMs = (n * HANDLER_MS) / (PROCESSES * CONCURRENCY);
    const m = { users: n, handlerMs: HANDLER_MS, processes: PROCESSES, concurrency: CONCURRENCY, idealMs };
    red.makespan = {
      ...m,
      window: side(runs.window),
      noWindow: side(runs.noWindow),
      noFetchAhead: side(runs.noFetchAhead),
      bullmq: side(runs.bullmq),
    };
    const x = (s: MakespanSide) => `${s.ms.median.toFixed(0)} ms (${(s.ms.median / idealMs).toFixed(2)}× ideal)`;
    const r = red.makespan;
    log(
      `makespan ${n} users: ideal ${idealMs} ms; spotter window on ${x(r.window)}, off ${x(r.noWindow)}, not fetching ahead ${x(r.noFetchAhead as MakespanSide)}; bullmq ${x(r.bullmq)}`,
    );
  },
};

function side(runs: Run[]): MakespanSide {
  const of = (k: keyof Run) => stats(runs.map((r) => r[k]));
  return {
    ms: of('lastMs'),
    firstMs: of('firstMs'),
    addedMs: of('addedMs'),
    slotMs: of('slotMs'),
    workersCpuUs: of('workersUs'),
    addingCpuUs: of('addingUs'),
    redisCpuUs: of('redisUs'),
  };
}

/** spotter-jobs' two worker processes and its producer, started and ready. */
async function startSpotter(url: string, p: string, n: number, window: string, fetchAhead: boolean) {
  const common = {
    REDIS_URL: url,
    SPOTTER_JOBS_PREFIX: p,
    SPOTTER_JOBS_HANDLERS: SLEEP_HANDLERS,
    BENCH_HANDLER_MS: String(HANDLER_MS),
    SPOTTER_JOBS_SYNC_CONCURRENCY: String(CONCURRENCY),
    SPOTTER_JOBS_COMPLETED_KEEP: '100000000',
    SPOTTER_JOBS_LOG_LEVEL: 'info',
    SPOTTER_JOBS_FETCH_AHEAD: String(fetchAhead),
  };
  const ports = await Promise.all(Array.from({ length: PROCESSES + 1 }, () => freePort()));
  const workers = ports
    .slice(1)
    .map((port) => startProcess([CLI, 'worker', '--queues', 'sync'], { ...common, SPOTTER_JOBS_WORKER_HTTP_PORT: String(port) }, port));
  const producer = startProcess(
    [CLI, 'producer'],
    {
      ...common,
      BENCH_USERS: String(n),
      SPOTTER_JOBS_FANOUT_WINDOW: window,
      // Only the tick this run triggers: no schedule of its own fires meanwhile.
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
      SPOTTER_JOBS_HTTP_PORT: String(ports[0]),
    },
    ports[0],
  );
  const stop = await allReady([...workers, producer]);
  return { workers, producer, stop };
}

/** spotter-jobs: a manual tick due LEAD_MS ahead, fanned out by the producer process. */
async function spotterRun(conn: Redis, url: string, n: number, window: string, fetchAhead: boolean): Promise<Run> {
  const p = prefix('mk');
  const { workers, producer, stop } = await startSpotter(url, p, n, window, fetchAhead);
  const config = configFor(url, p);
  const queues = new Queues(conn, config, silentLog());
  const due = Date.now() + LEAD_MS;
  await trigger(queues, config, config.kinds.sync as KindConfig, { at: new Date(due) });
  await sleep(due - Date.now());
  const producer0 = processCpuMs(producer.child.pid);
  const meter = await cpuMeter(
    conn,
    workers.map((w) => w.child.pid),
  );
  await waitDrained(conn, p, 'sync', n);
  const cpu = await meter(n);
  const addingUs = ((processCpuMs(producer.child.pid) - producer0) * 1000) / n;
  const times = await jobTimes(conn, p, 'sync', due);
  // The tick is recorded once its fan-out returned, which may come just after the last job.
  let tick = await lastTick(conn, p, 'sync');
  for (let i = 0; i < 100 && !tick; i++) {
    await sleep(20);
    tick = await lastTick(conn, p, 'sync');
  }
  await queues.close();
  await stop();
  return { ...times, addedMs: (tick?.finishedAt ?? Number.NaN) - due, workersUs: cpu.processesUs, addingUs, redisUs: cpu.redisUs };
}

/** Plain BullMQ: the same two workers; at the due time every job is added with addBulk (pages of 1,000). */
async function bullmqRun(conn: Redis, url: string, n: number): Promise<Run> {
  const p = prefix('mkb');
  const env = { REDIS_URL: url, PREFIX: p, CONCURRENCY: String(CONCURRENCY), HANDLER_MS: String(HANDLER_MS) };
  const workers = Array.from({ length: PROCESSES }, () => startProcess([PLAIN_WORKER], env));
  const stop = await allReady(workers);
  const due = Date.now() + LEAD_MS;
  await sleep(due - Date.now());
  const meter = await cpuMeter(
    conn,
    workers.map((w) => w.child.pid),
  );
  const adding = process.cpuUsage();
  await plainAddBulk(conn, p, n, 'plain');
  const added = process.cpuUsage(adding);
  const addedMs = Date.now() - due;
  await waitDrained(conn, p, 'sync', n);
  const cpu = await meter(n);
  const times = await jobTimes(conn, p, 'sync', due);
  await stop();
  return { ...times, addedMs, workersUs: cpu.processesUs, addingUs: (added.user + added.system) / n, redisUs: cpu.redisUs };
}
