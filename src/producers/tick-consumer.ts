/**
 * Consumes schedule ticks (jobs on the schedule queue) and fans each out. Runs in every producer:
 * BullMQ hands each tick to exactly one of them, and a tick whose producer died is picked up again
 * after its lock lapses and redone without duplicates (job ids are per tick and user).
 */
import { type Job, Worker } from 'bullmq';
import type { Config } from '../config.js';
import { formatDuration } from '../duration.js';
import type { Handlers } from '../handlers/types.js';
import type { Queues } from '../jobs/queues.js';
import { isScheduleName, SCHEDULE_QUEUE, type TickJobData } from '../jobs/registry.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import { recordTick, type TickResult } from '../schedules/tick-record.js';
import { fanOut } from './fan-out.js';

export interface TickConsumerDeps {
  conn: RedisClient;
  config: Config;
  queues: Queues;
  handlers: Handlers;
  log: Logger;
}

export class TickConsumer {
  private worker: Worker | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: TickConsumerDeps) {}

  start(): void {
    const { config, conn, log } = this.deps;
    this.worker = new Worker(SCHEDULE_QUEUE, (job, _token, signal) => this.process(job, signal), {
      connection: conn,
      prefix: config.prefix,
      // One tick per schedule at a time is plenty; fan-outs are Redis-bound.
      concurrency: 3,
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      // A producer killed mid-fan-out must not fail the tick: the next producer redoes it.
      maxStalledCount: 10,
    });
    this.worker.on('error', (err) => log.error({ queue: SCHEDULE_QUEUE, err: err.message }, 'tick worker error'));
    this.worker.on('stalled', (jobId) =>
      log.warn({ queue: SCHEDULE_QUEUE, jobId }, 'tick stalled (its producer died); redoing the fan-out'),
    );
  }

  async process(job: Job, signal?: AbortSignal): Promise<TickResult> {
    const { config, conn, log } = this.deps;
    const data = job.data as TickJobData;
    if (!isScheduleName(data?.schedule)) throw new Error(`tick job ${job.id} names no known schedule`);
    const schedule = data.schedule;
    const tickId = String(job.id);
    const scheduledFor = job.timestamp + (job.opts.delay ?? 0);
    const startedAt = Date.now();
    const tlog = log.child({ schedule, tick: tickId });
    tlog.info({ scheduledFor: new Date(scheduledFor).toISOString(), lagMs: startedAt - scheduledFor }, `tick ${schedule} started`);
    const base = { schedule, tickId, manual: Boolean(data.manual), scheduledFor, startedAt };
    try {
      const p = await fanOut(
        this.deps,
        { schedule, tickId, scheduledFor, spreadMs: config.schedules[schedule].spreadMs },
        (progress) => job.updateProgress(progress),
        signal,
      );
      const finishedAt = Date.now();
      const result: TickResult = { ...base, finishedAt, durationMs: finishedAt - startedAt, ...p, result: 'ok' };
      await recordTick(conn, config.prefix, result);
      tlog.info(
        { users: p.users, added: p.added, coalesced: p.coalesced, errors: p.errors, durationMs: result.durationMs },
        `tick ${schedule} finished`,
      );
      await this.logNextRun(schedule, tlog);
      return result;
    } catch (err) {
      const finishedAt = Date.now();
      const message = (err as Error).message;
      await recordTick(conn, config.prefix, {
        ...base,
        finishedAt,
        durationMs: finishedAt - startedAt,
        users: 0,
        added: 0,
        coalesced: 0,
        errors: 1,
        result: 'failed',
        error: message,
      }).catch(() => {});
      tlog.error({ err: message }, `tick ${schedule} failed`);
      throw err;
    }
  }

  private async logNextRun(schedule: string, tlog: Logger): Promise<void> {
    const s = await this.deps.queues
      .schedules()
      .getJobScheduler(schedule)
      .catch(() => undefined);
    if (s?.next) {
      tlog.info(
        { nextRun: new Date(s.next).toISOString(), inMs: s.next - Date.now() },
        `next ${schedule} run in ${formatDuration(Math.max(0, s.next - Date.now()))}`,
      );
    }
  }

  close(): Promise<void> {
    this.closing ??= this.worker ? this.worker.close() : Promise.resolve();
    return this.closing;
  }

  /** Past the shutdown deadline: abort fan-outs in flight; their ticks are redone by another producer. */
  abandon(): string[] {
    this.worker?.cancelAllJobs('shutdown deadline reached');
    return [];
  }
}
