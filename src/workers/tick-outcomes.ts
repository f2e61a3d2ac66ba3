/**
 * Counts how each tick's jobs end, for `status`: every settled attempt of a job that belongs to a
 * tick (fan-out, a global kind's run, a replay of either) changes its tick's hash. Changes are summed
 * per tick for FLUSH_MS and written in one pipeline, so a tick of thousands of users costs a few
 * Redis calls, not one per job. Best effort: a failed write is logged, never fails a job.
 */
import type { Job } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import { tickOf, tickToken } from '../jobs/registry.js';
import type { RedisClient } from '../redis/connection.js';
import { tickJobsKey } from '../redis/keys.js';
import { type Settled, type SettledChange, settledChange, tickJobsTtlMs, writeSettled } from '../schedules/tick-jobs.js';
import type { Logger } from '../telemetry/logger.js';

/** How long settled attempts are summed before they are written. */
const FLUSH_MS = 50;

export class TickOutcomes {
  private readonly pending = new Map<string, { change: SettledChange; ttlMs: number }>();
  private readonly ttl = new Map<string, number>();
  private readonly lastToken = new Map<string, { token: string; key: string }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: RedisClient,
    private readonly prefix: string,
    private readonly tz: string,
    private readonly log: Logger,
  ) {}

  /** One attempt of `job` settled; jobs added by other jobs (and item kinds) belong to no tick. */
  settled(kind: KindConfig, job: Job, outcome: Settled): void {
    if (kind.scope === 'item') return;
    const key = this.keyOf(kind, String(job.id), (job.data ?? {}) as Parameters<typeof tickOf>[2]);
    if (!key) return;
    const change = settledChange(kind, {
      outcome,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      reason: job.failedReason,
    });
    const entry = this.pending.get(key);
    if (entry) {
      for (const [f, n] of Object.entries(change.incr) as Array<[keyof SettledChange['incr'], number]>)
        entry.change.incr[f] = (entry.change.incr[f] ?? 0) + n;
      if (change.run) entry.change.run = change.run;
    } else {
      this.pending.set(key, { change, ttlMs: this.ttlOf(kind) });
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /**
   * The hash of the job's tick. A tick's jobs settle one after another, and the ids of a fan-out's
   * jobs start with the tick's token: the last such token of each kind and its key are kept, so
   * most jobs cost a string compare instead of parsing the tick back and building its key.
   */
  private keyOf(kind: KindConfig, jobId: string, data: Parameters<typeof tickOf>[2]): string | undefined {
    const cut = data.tick || data.parent ? -1 : jobId.indexOf('__');
    const token = cut > 0 ? jobId.slice(0, cut) : undefined;
    const last = this.lastToken.get(kind.name);
    if (token !== undefined && last?.token === token) return last.key;
    const tick = tickOf(kind.name, jobId, data);
    if (!tick) return undefined;
    const key = tickJobsKey(this.prefix, kind.name, tickToken(tick));
    if (token !== undefined) this.lastToken.set(kind.name, { token, key });
    return key;
  }

  private ttlOf(kind: KindConfig): number {
    let ms = this.ttl.get(kind.name);
    if (ms === undefined) {
      ms = tickJobsTtlMs(kind, this.tz);
      this.ttl.set(kind.name, ms);
    }
    return ms;
  }

  /** Writes what is pending; resolves once it and every earlier write are done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) {
      const batch = [...this.pending].map(([key, v]) => ({ key, ...v }));
      this.pending.clear();
      this.writing = this.writing.then(() =>
        writeSettled(this.conn, batch).catch((err: Error) =>
          this.log.warn({ err: err.message, ticks: batch.length }, "could not count how a tick's jobs ended"),
        ),
      );
    }
    return this.writing;
  }
}
