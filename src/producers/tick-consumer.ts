/**
 * Consumes schedule ticks (jobs on the schedule queue) and fans each out. Runs in every producer:
 * BullMQ hands each tick to exactly one of them, and a tick whose producer died is picked up again
 * after its lock lapses and redone without duplicates (job ids are per tick and user).
 */
import { DelayedError, type Job, Worker } from 'bullmq';
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import type { KindConfig } from '../config/kind-config.js';
import type { Handlers } from '../handlers/types.js';
import { addJob } from '../jobs/add-job.js';
import type { Queues } from '../jobs/queues.js';
import { globalJobId, kindByName, SCHEDULE_QUEUE, scheduledKinds, type TickJobData } from '../jobs/registry.js';
import type { RedisClient } from '../redis/connection.js';
import { backOffWhenRefused, type RefusalHook } from '../redis/refused-fetches.js';
import { catchUpVerdict } from '../schedules/catch-up.js';
import { isPaused } from '../schedules/pause.js';
import { describeListing, recordTick, type TickResult } from '../schedules/tick-record.js';
import type { Logger } from '../telemetry/logger.js';
import { RepeatedErrors } from '../telemetry/repeated-errors.js';
import { activeSpan, telemetryOption } from '../telemetry/tracing.js';
import { fanOut } from './fan-out.js';
import type { FanOutProgress } from './tick.js';

export interface TickConsumerDeps {
  conn: RedisClient;
  config: Config;
  queues: Queues;
  handlers: Handlers;
  log: Logger;
  /** Told how every tick ended (the per-process tick counter). */
  onTick?: (r: TickResult) => void;
}

/** A kind's fan-out window: SPOTTER_JOBS_FANOUT_WINDOW, or by default 20 jobs per slot of a worker, at least 1,000. */
export function windowFor(config: Config, kind: KindConfig): number {
  return config.fanoutWindow === 'auto' ? Math.max(1000, 20 * kind.concurrency) : config.fanoutWindow;
}

export class TickConsumer {
  private worker: Worker | undefined;
  private errorLog: RepeatedErrors | undefined;
  private refused: RefusalHook | undefined;
  private closing: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: TickConsumerDeps) {}

  start(): void {
    const { config, conn, log } = this.deps;
    this.worker = new Worker(SCHEDULE_QUEUE, (job, token, signal) => this.process(job, signal, token), {
      connection: conn,
      prefix: config.prefix,
      // A windowed tick pages as its jobs drain, which can take a whole interval; room for every
      // schedule's tick and the next one that supersedes it, so no schedule waits for another. A
      // superseded tick lets go of its slot within half a second whatever it waits for (fan-out.ts),
      // and a listing that never ends fails its tick (listing-limits.ts): a schedule holds one slot,
      // plus each tick it superseded for that half second.
      concurrency: Math.max(3, 2 * scheduledKinds(config).length + 1),
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      // A producer killed mid-fan-out must not fail the tick: the next producer redoes it.
      maxStalledCount: 10,
      // Taking a tick schedules the next one: RRULE and function schedules need the strategy here too.
      ...(this.deps.queues.repeatStrategy ? { settings: { repeatStrategy: this.deps.queues.repeatStrategy } } : {}),
      ...telemetryOption(),
    });
    // BullMQ emits a failed fetch again and again while Redis refuses it (out of memory): the worker
    // waits longer after each (refused-fetches.ts), and the errors are logged without flooding.
    const errors = new RepeatedErrors(log, { queue: SCHEDULE_QUEUE }, 'tick worker error');
    this.errorLog = errors;
    const backOff = backOffWhenRefused(this.worker);
    this.refused = backOff;
    this.worker.on('error', (err) => {
      backOff(err);
      errors.report(err.message);
    });
    this.worker.on('stalled', (jobId) =>
      log.warn(
        { queue: SCHEDULE_QUEUE, jobId },
        'tick stalled (its producer died, or Redis refused part of its start); redoing the fan-out',
      ),
    );
  }

  async process(job: Job, jobSignal?: AbortSignal, token?: string): Promise<TickResult> {
    // Shutdown stops a tick between two pages, and hands it on (below).
    const signal = jobSignal ? AbortSignal.any([jobSignal, this.stopping.signal]) : this.stopping.signal;
    const { config, log } = this.deps;
    const data = job.data as TickJobData;
    const kind = kindByName(config, String(data?.schedule));
    const schedule = kind?.name ?? String(data?.schedule).slice(0, 100);
    const tickId = String(job.id);
    const scheduledFor = job.timestamp + (job.opts.delay ?? 0);
    const startedAt = Date.now();
    const tlog = log.child({ schedule, ...(kind?.title ? { title: kind.title } : {}), tick: tickId });
    tlog.info({ scheduledFor: new Date(scheduledFor).toISOString(), lagMs: startedAt - scheduledFor }, `tick ${schedule} started`);
    const base = { schedule, tickId, manual: Boolean(data?.manual), scheduledFor, startedAt };
    // BullMQ's span of this attempt (tracing on): named after the tick, the root of its users' jobs.
    const span = activeSpan();
    span?.updateName(`tick ${schedule}`);
    span?.setAttributes({ 'spotter.schedule': schedule, 'spotter.tick_id': tickId, 'spotter.manual': base.manual });
    const finish = (result: TickResult['result'], p: FanOutProgress, error?: string) => this.record(base, span, result, p, error);
    const nothing: FanOutProgress = { users: 0, added: 0, coalesced: 0, errors: 0, duplicates: 0 };
    // What the fan-out added so far: a tick that fails on a later page records the pages before it.
    let sofar = nothing;
    try {
      // Inside the try, so a tick that cannot even start is logged and recorded like any failed tick.
      if (!kind || kind.scope === 'item')
        throw new Error(`tick ${tickId} names "${schedule}", which is no user or global kind of this producer's catalog`);
      const skip = data.manual ? undefined : await this.skipped(kind, scheduledFor, startedAt, tlog);
      if (skip) return await finish(skip.result, nothing, skip.reason);
      const p =
        kind.scope === 'user'
          ? await this.fanOutUsers(job, kind, scheduledFor, signal, (progress) => {
              sofar = progress;
            })
          : await this.runGlobal(kind, tickId, scheduledFor);
      const { superseded, ...progress } = p;
      const result = await finish(superseded ? 'superseded' : 'ok', p);
      tlog.info(
        { ...progress, durationMs: result.durationMs },
        superseded ? `tick ${schedule} superseded: ${describeListing(p)}` : `tick ${schedule} finished`,
      );
      await this.logNextRun(schedule, tlog);
      return result;
    } catch (err) {
      if (this.stopping.signal.aborted && token && !(jobSignal?.aborted ?? false)) {
        // This producer is shutting down mid-tick: the tick goes back to be taken at once by another
        // producer (or this one, restarted), which resumes from its cursor. No attempt is used.
        tlog.info(`tick ${schedule} handed over at shutdown; it resumes where it stopped`);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const message = (err as Error).message;
      await finish('failed', sofar, message).catch(() => {});
      tlog.error({ err: message }, `tick ${schedule} failed`);
      throw err;
    }
  }

  /**
   * Why a scheduled tick does no work, if it does none. A paused schedule keeps ticking in Redis (so
   * resuming keeps its cadence); a missed tick may be dropped by its catch-up policy. A manual run
   * (trigger) always goes ahead. Both kinds of skip stay in the history only.
   */
  private async skipped(
    kind: KindConfig,
    scheduledFor: number,
    startedAt: number,
    tlog: Logger,
  ): Promise<{ result: 'paused' | 'skipped'; reason?: string } | undefined> {
    const { config, conn } = this.deps;
    if (await isPaused(conn, config.prefix, kind.name)) {
      tlog.info(`tick ${kind.name} skipped: the schedule is paused`);
      return { result: 'paused' };
    }
    const verdict = kind.schedule ? catchUpVerdict(kind.schedule, config.tz, scheduledFor, startedAt) : { run: true as const };
    if (verdict.run) return undefined;
    tlog.warn({ reason: verdict.reason }, `missed tick ${kind.name} skipped: ${verdict.reason}`);
    return { result: 'skipped', reason: verdict.reason };
  }

  /** Records how the tick ended: one shape for every outcome. */
  private async record(
    base: Pick<TickResult, 'schedule' | 'tickId' | 'manual' | 'scheduledFor' | 'startedAt'>,
    span: ReturnType<typeof activeSpan>,
    result: TickResult['result'],
    p: FanOutProgress,
    error?: string,
  ): Promise<TickResult> {
    const finishedAt = Date.now();
    const { superseded: _, ...counts } = p;
    const r: TickResult = { ...base, finishedAt, durationMs: finishedAt - base.startedAt, ...counts, result, ...(error ? { error } : {}) };
    this.deps.onTick?.(r);
    span?.setAttributes({
      'spotter.outcome': result,
      'spotter.tick.users': p.users,
      'spotter.tick.added': p.added,
      'spotter.tick.coalesced': p.coalesced,
    });
    await recordTick(this.deps.conn, this.deps.config.prefix, r);
    return r;
  }

  /** A user kind's tick: its fan-out, its progress shown on the tick job and told to `seen`. */
  private fanOutUsers(
    job: Job,
    kind: KindConfig,
    scheduledFor: number,
    signal: AbortSignal,
    seen: (p: FanOutProgress) => void,
  ): Promise<FanOutProgress> {
    const { config } = this.deps;
    const tick = { kind, tickId: String(job.id), scheduledFor, spreadMs: kind.schedule?.spreadMs ?? 0, window: windowFor(config, kind) };
    return fanOut(
      this.deps,
      tick,
      (p) => {
        seen(p);
        return job.updateProgress(p);
      },
      signal,
    );
  }

  /** A global kind's tick is its one job; the id is the tick's, so a tick redone adds it once. */
  private async runGlobal(kind: KindConfig, tickId: string, scheduledFor: number): Promise<FanOutProgress> {
    await addJob(this.deps.queues, { kind, subject: undefined, jobId: globalJobId(tickId), scheduledFor, tick: tickId });
    return { users: 0, added: 1, coalesced: 0, errors: 0, duplicates: 0 };
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

  /** The reply code while Redis refuses the tick worker (out of memory, read-only), else undefined. */
  refusal(): string | undefined {
    return this.refused?.refusal();
  }

  close(): Promise<void> {
    this.stopping.abort(new Error('producer shutting down'));
    this.closing ??= (this.worker ? this.worker.close() : Promise.resolve()).finally(() => this.errorLog?.close());
    return this.closing;
  }

  /** Past the shutdown deadline: abort fan-outs in flight; their ticks are redone by another producer. */
  abandon(): string[] {
    this.worker?.cancelAllJobs('shutdown deadline reached');
    this.errorLog?.close();
    return [];
  }
}
