/**
 * Prometheus metrics. Cluster-wide values (job counts, dead letters, schedule times, last fan-out)
 * are read from Redis at scrape time, so any producer answers for the whole cluster; per-process
 * values (job durations and outcomes) are counted where the jobs run, on every worker's /metrics.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { allQueues, DEAD_LETTER_QUEUE, workQueues } from '../jobs/registry.js';
import { JOB_STATES } from '../ops/job-states.js';
import { within } from '../redis/connection.js';
import { queueKey } from '../redis/keys.js';
import type { TickResult } from '../schedules/tick-record.js';
import type { SlotUse } from '../workers/slot-use.js';
import { registerFairMetrics } from './fair-metrics.js';
import { registerScheduleMetrics } from './schedule-metrics.js';
import { shared } from './shared-read.js';
import { registerSubjectScheduleMetrics } from './subject-schedule-metrics.js';
import { tolerant } from './tolerant.js';
import { censusOf } from './worker-census.js';

export type JobOutcome = 'completed' | 'retry' | 'dead_letter';

/**
 * Per-process health, on every producer's and worker's /metrics: the alert rules page on
 * `spotter_jobs_ready == 0` (or on the target being down) rather than on a probe log.
 */
export function registerProcessMetrics(
  registry: Registry,
  role: string,
  readiness: () => Promise<{ ready: boolean }>,
  slots?: () => readonly SlotUse[],
): void {
  new Gauge({
    name: 'spotter_jobs_ready',
    help: '1 while this process is ready (its /readyz answers 200), 0 otherwise',
    labelNames: ['role'],
    registers: [registry],
    async collect() {
      const r = await readiness().catch(() => ({ ready: false }));
      this.set({ role }, r.ready ? 1 : 0);
    },
  });
  if (!slots) return;
  new Gauge({
    name: 'spotter_jobs_worker_slots_busy',
    help: 'Jobs this worker process is running now, by queue',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      for (const s of slots()) this.set({ queue: s.queue }, s.busy);
    },
  });
  new Gauge({
    name: 'spotter_jobs_worker_concurrency',
    help: 'Concurrency cap of this worker process, by queue',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      for (const s of slots()) this.set({ queue: s.queue }, s.concurrency);
    },
  });
  registerFetchAheadMetrics(registry, slots);
}

/** Jobs a worker process fetched ahead of its slots (docs/behaviour.md): held now, and given back. */
function registerFetchAheadMetrics(registry: Registry, slots: () => readonly SlotUse[]): void {
  new Gauge({
    name: 'spotter_jobs_worker_jobs_held_ahead',
    help: 'Jobs this worker process fetched ahead and holds waiting for a free slot now, by queue',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      for (const s of slots()) this.set({ queue: s.queue }, s.heldAhead);
    },
  });
  new Counter({
    name: 'spotter_jobs_worker_jobs_given_back_total',
    help: 'Jobs fetched ahead that found no slot in time (or met a closing worker) and went back to the queue, by queue',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      // The count lives in the worker; the counter is set to it at each scrape.
      this.reset();
      for (const s of slots()) this.inc({ queue: s.queue }, s.givenBack);
    },
  });
}

/** Ticks consumed by this producer process, by schedule and result (ok, failed, paused, skipped). */
export class TickMetrics {
  private readonly total: Counter<'schedule' | 'result'>;
  constructor(registry: Registry) {
    this.total = new Counter({
      name: 'spotter_jobs_ticks_total',
      help: 'Ticks this producer finished, by schedule and result (ok, failed, paused, skipped, superseded)',
      labelNames: ['schedule', 'result'],
      registers: [registry],
    });
  }
  observe(t: Pick<TickResult, 'schedule' | 'result'>): void {
    this.total.inc({ schedule: t.schedule, result: t.result });
  }
}

/** Per-process job metrics, fed by the worker's handler adapter. */
export class JobMetrics {
  readonly duration: Histogram<'queue' | 'outcome'>;
  readonly total: Counter<'queue' | 'outcome'>;
  constructor(registry: Registry, overdue: () => number = () => 0) {
    new Gauge({
      name: 'spotter_jobs_jobs_overdue',
      help: 'Attempts that timed out while their handler, ignoring ctx.signal, is still running in this process',
      registers: [registry],
      collect() {
        this.set(overdue());
      },
    });
    this.duration = new Histogram({
      name: 'spotter_jobs_job_duration_seconds',
      help: 'Handler run time per attempt, by queue and outcome',
      labelNames: ['queue', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    });
    this.total = new Counter({
      name: 'spotter_jobs_job_attempts_total',
      help: 'Handler attempts finished by this process, by queue and outcome (completed, retry, dead_letter)',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    });
  }
  /** Labelled children, cached: looking labels up by object on every job costs more than the job. */
  private readonly children = new Map<string, { duration: ReturnType<Histogram['labels']>; total: ReturnType<Counter['labels']> }>();
  observe(queue: string, outcome: JobOutcome, seconds: number): void {
    const key = `${queue}\0${outcome}`;
    let c = this.children.get(key);
    if (!c) {
      c = { duration: this.duration.labels(queue, outcome), total: this.total.labels(queue, outcome) };
      this.children.set(key, c);
    }
    c.duration.observe(seconds);
    c.total.inc();
  }
}

export function registerClusterMetrics(registry: Registry, queues: Queues, config: Config): void {
  registerRedisMetrics(registry, queues);
  registerQueueMetrics(registry, queues, config);
  registerScheduleMetrics(registry, queues, config);
  registerSubjectScheduleMetrics(registry, queues, config);
  registerFairMetrics(registry, queues, config);
}

/** Whether Redis answers, and whether its eviction policy is safe for queues. */
function registerRedisMetrics(registry: Registry, queues: Queues): void {
  new Gauge({
    name: 'spotter_jobs_redis_up',
    help: '1 when Redis answered a PING within the scrape, 0 otherwise',
    registers: [registry],
    async collect() {
      this.set(
        await within(1500, () => queues.conn.ping()).then(
          () => 1,
          () => 0,
        ),
      );
    },
  });
  // INFO rather than CONFIG GET: managed Redis services often disable CONFIG. One read for both gauges.
  const memory = shared(() => within(1500, () => queues.conn.info('memory')));
  new Gauge({
    name: 'spotter_jobs_redis_maxmemory_policy',
    help: "1 for Redis' current maxmemory-policy (only noeviction is safe for queues), read from INFO at scrape time",
    labelNames: ['policy'],
    registers: [registry],
    collect: tolerant(async function () {
      const policy = /^maxmemory_policy:(\S+)/m.exec(await memory())?.[1] ?? 'unknown';
      this.reset();
      this.set({ policy }, 1);
    }),
  });
  new Gauge({
    name: 'spotter_jobs_redis_memory_bytes',
    help: "Redis' used memory and its maxmemory (0: no limit), read from INFO at scrape time",
    labelNames: ['memory'],
    registers: [registry],
    // At maxmemory with noeviction Redis refuses every write while PING still answers: the one
    // outage that redis_up does not show.
    collect: tolerant(async function () {
      const info = await memory();
      const bytes = (field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
      this.reset();
      this.set({ memory: 'used' }, bytes('used_memory'));
      this.set({ memory: 'max' }, bytes('maxmemory'));
    }),
  });
}

/** Per queue: the workers consuming it, its jobs by state, and its dead letters. */
function registerQueueMetrics(registry: Registry, queues: Queues, config: Config): void {
  new Gauge({
    name: 'spotter_jobs_queue_workers',
    help: 'Worker connections consuming each queue, cluster-wide (from CLIENT LIST)',
    labelNames: ['queue'],
    registers: [registry],
    collect: tolerant(async function () {
      const names = allQueues(config);
      const census = censusOf(queues);
      const counts = await Promise.all(names.map(async (q) => (await census.workersOf(q)).length));
      this.reset();
      for (const [i, queue] of names.entries()) this.set({ queue }, counts[i] ?? 0);
    }),
  });
  new Gauge({
    name: 'spotter_jobs_queue_jobs',
    help: 'Jobs per queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    collect: tolerant(async function () {
      const names = allQueues(config);
      const counts = await Promise.all(names.map((q) => queues.get(q).getJobCounts(...JOB_STATES)));
      this.reset();
      names.forEach((queue, i) => {
        for (const state of JOB_STATES) this.set({ queue, state }, counts[i]?.[state] ?? 0);
      });
    }),
  });
  new Gauge({
    name: 'spotter_jobs_dead_letters',
    help: 'Dead letters waiting for replay or purge, by source queue',
    labelNames: ['source_queue'],
    registers: [registry],
    collect: tolerant(async function () {
      // Dead-letter ids start with their source queue, so counting needs the ids only, not the jobs.
      const ids = await queues.conn.lrange(queueKey(config.prefix, DEAD_LETTER_QUEUE, 'wait'), 0, -1);
      this.reset();
      for (const q of workQueues(config)) this.set({ source_queue: q }, ids.filter((id) => id.startsWith(`${q}__`)).length);
    }),
  });
}

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'spotter_jobs_' });
  return registry;
}
