/**
 * BullMQ Queue handles for one process, built from the registry and the config: the only place
 * that constructs a Queue, so prefix, connection, error logging and default options are uniform.
 */
import { type JobsOptions, type KeepJobs, Queue, type RepeatStrategy } from 'bullmq';
import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import type { RedisClient } from '../redis/connection.js';
import type { Logger } from '../telemetry/logger.js';
import { telemetryOption } from '../telemetry/tracing.js';
import { allQueues, type KindCatalog, SCHEDULE_QUEUE } from './registry.js';

/** Custom backoff type: the delay was already decided by `decide()` and travels on the error. */
export const BACKOFF_TYPE = 'spotter';

/**
 * Options of every job of `kind`: its attempts and backoff. Each job stores its options in Redis, so
 * what is the same for every job of a kind stays out of them: the delay is decided by `decide()` and
 * the retention is the kind's worker's (`retentionOptions`), which BullMQ applies to jobs without one.
 */
export function jobOptions(kind: KindConfig): JobsOptions {
  return { attempts: kind.attempts, backoff: { type: BACKOFF_TYPE } };
}

/**
 * A user job's coalescing, done by BullMQ in the same Lua call as the add: while the user's previous
 * job waits (or waits for a retry), this add is merged into it; while it runs, this one is kept and
 * enqueued the moment it finishes. At most one waiting and one running per user, and never two of a
 * user's jobs at once. BullMQ keeps the key under the queue's own keys, so the user id alone is it.
 */
export function coalescing(userId: string): Pick<JobsOptions, 'deduplication'> {
  return { deduplication: { id: userId, keepLastIfActive: true } };
}

/** How long the kind's finished jobs are kept: set on its Worker, applied as each job finishes. */
export function retentionOptions(kind: KindConfig): { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } {
  return {
    removeOnComplete: { age: Math.ceil(kind.retention.completedAgeMs / 1000), count: kind.retention.completedCount },
    removeOnFail: { age: Math.ceil(kind.retention.failedAgeMs / 1000) },
  };
}

export function tickJobOptions(config: Config): JobsOptions {
  return {
    // A tick whose user listing failed is retried a few times, quickly: the next tick is never far.
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: Math.ceil(config.retention.completedAgeMs / 1000), count: 1000 },
    removeOnFail: { age: Math.ceil(config.retention.failedAgeMs / 1000), count: 1000 },
    // With tracing on, each tick starts a trace of its own: without this every tick of a scheduler
    // would carry the context of the span that first created it, one trace growing for ever.
    telemetry: { omitContext: true },
  };
}

export interface QueuesOptions {
  /**
   * How the schedules queue's schedulers find their next run when upserted (the producer's, from
   * src/schedules/repeat-strategy.ts, which reads RRULE and function schedules); without it BullMQ's
   * default, which reads only crons. The tick consumer's Worker takes the same.
   */
  repeatStrategy?: RepeatStrategy;
  /** False for a command: its handles write no meta hash (default true, the services). */
  writesMeta?: boolean;
}

export class Queues {
  private readonly map = new Map<string, Queue>();
  private readonly closers: Array<() => Promise<void>> = [];
  readonly repeatStrategy?: RepeatStrategy;
  /**
   * Whether a queue's handle writes its meta hash (BullMQ's version and event length) when made.
   * The services do; a command does not, so a mistyped prefix leaves nothing behind a `status`.
   */
  private readonly writesMeta: boolean;

  constructor(
    readonly conn: RedisClient,
    private readonly config: Config,
    readonly log: Logger,
    opts: QueuesOptions = {},
  ) {
    this.repeatStrategy = opts.repeatStrategy;
    this.writesMeta = opts.writesMeta ?? true;
  }

  /** Runs `fn` first when these handles close (what works through them: fair admission's refills). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  get prefix(): string {
    return this.config.prefix;
  }

  /** The configuration these handles were made with. */
  get settings(): Config {
    return this.config;
  }

  /** The kinds these handles were made for: they name the queues. */
  get catalog(): KindCatalog {
    return this.config;
  }

  get(name: string): Queue {
    let q = this.map.get(name);
    if (!q) {
      const settings = name === SCHEDULE_QUEUE && this.repeatStrategy ? { settings: { repeatStrategy: this.repeatStrategy } } : {};
      q = new Queue(name, {
        connection: this.conn,
        prefix: this.config.prefix,
        skipMetasUpdate: !this.writesMeta,
        ...settings,
        ...telemetryOption(),
      });
      q.on('error', (err) => this.log.error({ queue: name, err: err.message }, 'queue error'));
      this.map.set(name, q);
    }
    return q;
  }

  schedules(): Queue {
    return this.get(SCHEDULE_QUEUE);
  }

  all(): Queue[] {
    return allQueues(this.config).map((n) => this.get(n));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((fn) => fn()));
    await Promise.allSettled([...this.map.values()].map((q) => q.close()));
    this.map.clear();
  }
}
