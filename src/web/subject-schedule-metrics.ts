/**
 * Subject schedules' metrics: schedules per kind, runs taken and not yet started, runs due within the
 * window, how far the materialiser is behind (read from Redis at scrape time), and the lag histogram
 * (due → job added, in producers; due → run started, in workers).
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { scheduleBucketsKey, scheduleCountsKey, scheduleDueKey, schedulePendingKey } from '../redis/keys.js';
import { tolerant } from './tolerant.js';

/** Buckets one scrape counts due runs in, at most: the gauge says "at least" past it. */
const MAX_BUCKETS_COUNTED = 1000;

export class ScheduleLagMetrics {
  private readonly lag: Histogram<'kind' | 'stage'>;
  constructor(registry: Registry) {
    this.lag = new Histogram({
      name: 'spotter_jobs_schedule_lag_seconds',
      help: 'Subject schedule runs: from their time to their job being added (stage enqueued; 0 when added ahead) or their run starting (stage started)',
      labelNames: ['kind', 'stage'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
  }
  observe(kind: string, stage: 'enqueued' | 'started', seconds: number): void {
    this.lag.observe({ kind, stage }, seconds);
  }
}

export function registerSubjectScheduleMetrics(registry: Registry, queues: Queues, config: Config): void {
  const { prefix } = config;
  new Gauge({
    name: 'spotter_jobs_subject_schedules',
    help: 'Subject schedules per kind (active, paused and ended)',
    labelNames: ['kind'],
    registers: [registry],
    collect: tolerant(async function () {
      const counts = await queues.conn.hgetall(scheduleCountsKey(prefix));
      this.reset();
      for (const [kind, n] of Object.entries(counts)) this.set({ kind }, Number(n));
    }),
  });
  new Gauge({
    name: 'spotter_jobs_schedule_runs_pending',
    help: 'Subject schedule runs added as jobs whose run has not started',
    registers: [registry],
    collect: tolerant(async function () {
      this.set(await queues.conn.zcard(schedulePendingKey(prefix)));
    }),
  });
  new Gauge({
    name: 'spotter_jobs_schedule_runs_due',
    help: `Subject schedule runs due within the execution window and not yet added as jobs (counted in ${MAX_BUCKETS_COUNTED} buckets at most)`,
    registers: [registry],
    collect: tolerant(async function () {
      const horizon = Date.now() + config.subjectSchedules.windowMs;
      const buckets = await queues.conn.zrangebyscore(scheduleBucketsKey(prefix), '-inf', horizon, 'LIMIT', 0, MAX_BUCKETS_COUNTED);
      const p = queues.conn.pipeline();
      for (const b of buckets) p.zcount(scheduleDueKey(prefix, b), '-inf', horizon);
      const counts = (await p.exec()) ?? [];
      this.set(counts.reduce((n, [, v]) => n + Number(v ?? 0), 0));
    }),
  });
  new Gauge({
    name: 'spotter_jobs_schedule_behind_seconds',
    help: 'How long ago the earliest subject schedule run not yet added as a job was due (0 when none is late): the materialiser is behind',
    registers: [registry],
    collect: tolerant(async function () {
      const [, at] = await queues.conn.zrange(scheduleBucketsKey(prefix), 0, 0, 'WITHSCORES');
      this.set(at === undefined ? 0 : Math.max(0, (Date.now() - Number(at)) / 1000));
    }),
  });
}
