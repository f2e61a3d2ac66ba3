/**
 * One BullMQ Worker per work queue, configured from the config: concurrency cap, rate limit, lock
 * and stalled settings, and the backoff that `decide()` chose. Final failures become dead letters.
 */
import { Worker } from 'bullmq';
import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import type { Handlers } from '../handlers/types.js';
import { type Queues, retentionOptions } from '../jobs/queues.js';
import type { RedisClient } from '../redis/connection.js';
import { backOffWhenRefused, type RefusalHook } from '../redis/refused-fetches.js';
import { type DeadLetters, recordDeadLetters } from '../services/dead-letters/index.js';
import { UserHistory } from '../services/user-history.js';
import type { Logger } from '../telemetry/logger.js';
import { RepeatedErrors } from '../telemetry/repeated-errors.js';
import { telemetryOption } from '../telemetry/tracing.js';
import { Exclusivity } from './exclusivity.js';
import type { RetryDelay } from './fail-attempt.js';
import { FairWorker } from './fair-worker.js';
import { LockLostError } from './hold.js';
import { lostLockJobId } from './lost-lock.js';
import type { Overdue, RunHandlerDeps } from './run-deps.js';
import { makeProcessor } from './run-handler.js';
import { fetchesAhead, SlotGate } from './slot-gate.js';
import type { SlotUse } from './slot-use.js';
import { TickOutcomes } from './tick-outcomes.js';

export interface ConsumerDeps {
  conn: RedisClient;
  config: Config;
  queues: Queues;
  handlers: Handlers;
  deadLetters: DeadLetters;
  log: Logger;
  observe?: RunHandlerDeps['observe'];
  observeScheduleLag?: RunHandlerDeps['observeScheduleLag'];
}

export class Consumers {
  private readonly workers = new Map<string, Worker>();
  private leaving = false;
  private readonly running = new Map<string, AbortController | undefined>();
  private readonly overdueJobs = new Map<string, Overdue>();
  private readonly lostLocks = new Set<string>();
  private readonly slotsByQueue = new Map<string, { busy: number; concurrency: number }>();
  private readonly gates = new Map<string, SlotGate>();
  private readonly refusals = new Map<string, RefusalHook>();
  private readonly exclusivity: Exclusivity;
  private readonly history: UserHistory;
  private readonly ticks: TickOutcomes;
  private readonly fair: FairWorker;
  private readonly errorLogs: RepeatedErrors[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: ConsumerDeps,
    readonly kinds: readonly KindConfig[],
  ) {
    this.exclusivity = new Exclusivity(deps.conn, deps.config.prefix, deps.config.lockDurationMs, (group, kind, lane) =>
      deps.log.debug(
        { group, kind },
        lane ? 'alone in its exclusivity group: running without per-user keys' : 'exclusivity group shared: per-user keys',
      ),
    );
    this.history = new UserHistory(deps.conn, deps.config, deps.log);
    this.ticks = new TickOutcomes(deps.conn, deps.config.prefix, deps.config.tz, deps.log);
    this.fair = new FairWorker(deps.queues);
  }

  start(): void {
    const { log, deadLetters } = this.deps;
    for (const kind of this.kinds) {
      const { queue } = kind;
      const worker = this.workerFor(kind);
      this.watchLocks(worker, queue);
      this.recordOutcomes(worker, kind);
      // After the listeners above, so the history and tick records are taken first, as before.
      recordDeadLetters(worker, queue, deadLetters, log);
      this.fair.attach(worker, kind);
      worker.on('stalled', (jobId) => log.warn({ queue, jobId }, 'job stalled (its worker died or lost its lock); running it again'));
      this.workers.set(queue, worker);
    }
  }

  /** One kind's BullMQ Worker, with its caps, lock settings and backoff, and its slots counted. */
  private workerFor(kind: KindConfig): Worker {
    const { config, conn, log } = this.deps;
    const { queue } = kind;
    const handler = this.deps.handlers.run[kind.name];
    if (!handler) throw new Error(`no handler for kind ${kind.name}`);
    const slots = { busy: 0, concurrency: kind.concurrency };
    this.slotsByQueue.set(queue, slots);
    let worker: Worker | undefined;
    const gate =
      config.fetchAhead && fetchesAhead(kind)
        ? new SlotGate(kind.concurrency, (extra) => {
            if (worker) worker.concurrency = kind.concurrency + extra;
          })
        : undefined;
    if (gate) this.gates.set(queue, gate);
    worker = new Worker(
      queue,
      makeProcessor({
        kind,
        handler,
        queues: this.deps.queues,
        log,
        leaving: () => this.leaving,
        running: this.running,
        overdue: this.overdueJobs,
        exclusivity: this.exclusivity,
        lostLocks: this.lostLocks,
        observe: this.deps.observe,
        observeScheduleLag: this.deps.observeScheduleLag,
        slots,
        gate,
      }),
      {
        connection: conn,
        prefix: config.prefix,
        concurrency: kind.concurrency + (gate?.extra ?? 0),
        limiter: kind.rateLimit ? { max: kind.rateLimit.max, duration: kind.rateLimit.durationMs } : undefined,
        ...retentionOptions(kind),
        lockDuration: config.lockDurationMs,
        stalledInterval: config.stalledIntervalMs,
        maxStalledCount: config.maxStalledCount,
        ...telemetryOption(),
        settings: {
          backoffStrategy: (_attempts, _type, err) => (err as RetryDelay | undefined)?.retryDelayMs ?? kind.backoffMs,
        },
      },
    );
    return worker;
  }

  /** Lost locks, whether BullMQ could not renew one or could not store an outcome under it; other worker errors. */
  private watchLocks(worker: Worker, queue: string): void {
    const { config, log } = this.deps;
    // BullMQ emits a failed fetch again and again while Redis refuses it (out of memory): the worker
    // waits longer after each (refused-fetches.ts), and the errors are logged without flooding.
    const errors = new RepeatedErrors(log, { queue }, 'worker error');
    const backOff = backOffWhenRefused(worker);
    this.refusals.set(queue, backOff);
    this.errorLogs.push(errors);
    // A lock BullMQ could not renew (it lapsed, or another worker took the job over): the handler's
    // signal fires at once, and its run is not counted as completed.
    const gate = this.gates.get(queue);
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) {
        // A job fetched ahead and still waiting for a slot is marked too: it must not start.
        if (!this.running.has(id) && !gate?.holds(id)) continue;
        this.lostLocks.add(id);
        this.running.get(id)?.abort(new LockLostError('lost its job lock; another worker may run it'));
      }
    });
    worker.on('error', (err) => {
      // BullMQ could not store an outcome because another worker took the job over: this process
      // held the event loop past SPOTTER_JOBS_LOCK_DURATION (or lost Redis that long), so the run
      // counts for nothing and the job may have run twice.
      const lost = lostLockJobId(err.message);
      if (lost) {
        log.warn(
          { queue, jobId: lost, err: err.message, lockDurationMs: config.lockDurationMs },
          `lost the lock of job ${lost} while running it: another worker may have run it too; this run is not counted as completed (keep the event loop free: no synchronous work longer than the lock)`,
        );
        return;
      }
      backOff(err);
      errors.report(err.message);
    });
  }

  /** Each settled attempt into the user's history, the tick's outcomes, the metrics and the log. */
  private recordOutcomes(worker: Worker, kind: KindConfig): void {
    const { queue } = kind;
    // Counted and logged once BullMQ has stored the result, not when the handler returned. The
    // queue is bound once (pino serializes a child's bindings when it is made, not per line).
    const queueLog = this.deps.log.child(kind.title ? { queue, title: kind.title } : { queue });
    const gate = this.gates.get(queue);
    worker.on('completed', (job) => {
      gate?.reported(String(job.id));
      this.history.record(kind, job, 'completed');
      this.ticks.settled(kind, job, 'completed');
      const ms = (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
      this.deps.observe?.(queue, 'completed', ms / 1000);
      if (!queueLog.isLevelEnabled('info')) return;
      const d = job.data as { userId?: string; id?: string };
      const line = d.userId
        ? { jobId: job.id, userId: d.userId, attempt: job.attemptsMade, durationMs: ms }
        : d.id
          ? { jobId: job.id, itemId: d.id, attempt: job.attemptsMade, durationMs: ms }
          : { jobId: job.id, attempt: job.attemptsMade, durationMs: ms };
      queueLog.info(line, 'job completed');
    });
    worker.on('failed', (job) => {
      // finishedOn is set only when the job moved to `failed` for good (no retry left).
      if (!job) return;
      gate?.reported(String(job.id));
      this.history.record(kind, job, job.finishedOn ? 'dead_letter' : 'failed');
      this.ticks.settled(kind, job, job.finishedOn ? 'dead_letter' : 'retry');
    });
  }

  /** Attempts that timed out but whose handler, ignoring its signal, has not settled yet. */
  overdue(): Overdue[] {
    return [...this.overdueJobs.values()];
  }

  /** Each consumed queue's concurrency, the jobs running in it now, and those fetched ahead of a slot. */
  slots(): SlotUse[] {
    return [...this.slotsByQueue].map(([queue, s]) => {
      const gate = this.gates.get(queue);
      return { queue, ...s, heldAhead: gate?.waiting() ?? 0, givenBack: gate?.givenBack ?? 0 };
    });
  }

  /** The first queue whose worker Redis refuses now (out of memory, read-only), with its reply code. */
  refusal(): string | undefined {
    for (const [queue, hook] of this.refusals) {
      const code = hook.refusal();
      if (code !== undefined) return `${queue}: ${code}`;
    }
    return undefined;
  }

  /** Job ids running in this process right now. */
  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Ready means consuming: every worker running and its blocking connection up. A worker whose
   * blocking connection is reconnecting is not taking jobs, whatever its process says.
   */
  async consuming(): Promise<boolean> {
    if (this.closing || this.workers.size === 0) return false;
    for (const w of this.workers.values()) {
      if (!w.isRunning()) return false;
      const backend = (w as unknown as { backend?: { blockingClient?: Promise<{ status?: string }> } }).backend;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), 500);
      });
      // The timer goes with the answer: one left per probe would keep the process (and a test) open.
      const client = await Promise.race([backend?.blockingClient, late]).finally(() => clearTimeout(timer));
      if (client?.status !== undefined && client.status !== 'ready') return false;
    }
    return true;
  }

  /** Stops taking jobs and waits for the running ones; idempotent. */
  close(): Promise<void> {
    // Jobs fetched ahead and still waiting for a slot go back to the queue rather than run now.
    for (const g of this.gates.values()) g.close();
    this.closing ??= Promise.all([...this.workers.values()].map((w) => w.close()))
      .finally(() => {
        for (const e of this.errorLogs) e.close();
      })
      .then(() => Promise.all([this.exclusivity.close(), this.history.flush(), this.ticks.flush()]).then(() => this.fair.close()));
    return this.closing;
  }

  /** Past the deadline: abort every running handler and leave its job for another worker. */
  abandon(): string[] {
    const ids = this.runningJobIds();
    this.leaving = true;
    for (const g of this.gates.values()) g.close();
    for (const c of this.running.values()) c?.abort(new Error('shutdown deadline reached'));
    // The counts of errors in a loop, out before the process exits.
    for (const e of this.errorLogs) e.close();
    return ids;
  }
}
