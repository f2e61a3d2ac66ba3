/**
 * One user's history: a small hash per user, written as each of their jobs finishes (one pipelined
 * write, after BullMQ stored the outcome), so "what happened to me?" is answered without scanning a
 * queue. It holds the last run of each kind and the id of its latest dead letter; it expires with
 * the user's last job (the kinds' completed retention), so its memory is bounded by active users.
 */
import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import type { KindConfig } from '../jobs/kinds.js';
import type { Queues } from '../jobs/queues.js';
import { coalesceId, DEAD_LETTER_QUEUE, deadLetterId, kindsOf } from '../jobs/registry.js';
import type { RedisClient } from '../redis.js';

export interface LastRun {
  jobId: string;
  /** When it finished (epoch ms). */
  at: number;
  outcome: 'completed' | 'failed' | 'dead_letter';
  attempts: number;
  durationMs: number;
  reason?: string;
}

export interface KindHistory {
  kind: string;
  queue: string;
  lastRun: LastRun | null;
  /** The user's job of this kind that has not finished: its id and state, or null. */
  current: { jobId: string; state: string } | null;
  /** The next tick that will include the user (scheduled user kinds). */
  nextTick: number | null;
  deadLetter: { id: string; failedReason: string; failedAt: number } | null;
}

/** How long finished jobs' history writes are gathered before they go to Redis in one pipeline. */
const FLUSH_MS = 50;

export function userKey(prefix: string, userId: string): string {
  return `${prefix}:spotter-jobs:user:${userId}`;
}

export class UserHistory {
  private readonly ttlMs: number;
  constructor(
    private readonly conn: RedisClient,
    private readonly config: Config,
  ) {
    // As long as the user's longest-kept job: the record goes with the last of them.
    this.ttlMs = Math.max(config.retention.completedAgeMs, ...kindsOf(config).map((k) => k.retention.completedAgeMs));
  }

  /** Fields waiting for the next flush, by user key. */
  private pending = new Map<string, Record<string, string>>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * Records a finished attempt of a user job. Writes are gathered for FLUSH_MS and sent as one
   * pipeline: a record per job costs a few microseconds, not a round trip (a worker killed within
   * those milliseconds loses the history of its last jobs, never a job).
   */
  record(kind: KindConfig, job: Job, outcome: LastRun['outcome']): void {
    const userId = (job.data as { userId?: unknown })?.userId;
    if (typeof userId !== 'string') return;
    const run: LastRun = {
      jobId: String(job.id),
      at: job.finishedOn ?? Date.now(),
      outcome,
      attempts: job.attemptsMade,
      durationMs: (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now()),
      ...(outcome !== 'completed' && job.failedReason ? { reason: job.failedReason.slice(0, 500) } : {}),
    };
    const key = userKey(this.config.prefix, userId);
    let fields = this.pending.get(key);
    if (!fields) {
      fields = {};
      this.pending.set(key, fields);
    }
    fields[kind.name] = JSON.stringify(run);
    if (outcome === 'dead_letter') fields[`dl:${kind.name}`] = deadLetterId(kind.queue, String(job.id));
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => {}), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Sends what is gathered; also called at shutdown. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const p = this.conn.pipeline();
    for (const [key, fields] of batch) p.hset(key, fields).pexpire(key, this.ttlMs);
    await p.exec();
  }

  /** Everything about one user, in a few Redis calls per kind, whatever the number of users. */
  async lookup(queues: Queues, userId: string): Promise<KindHistory[]> {
    const rec = await this.conn.hgetall(userKey(this.config.prefix, userId));
    const schedulers = new Map((await queues.schedules().getJobSchedulers(0, -1)).map((s) => [s.key, s]));
    const userKinds = kindsOf(this.config).filter((k) => k.scope === 'user');
    return Promise.all(
      userKinds.map(async (k): Promise<KindHistory> => {
        const q = queues.get(k.queue);
        const pendingId = await q.getDeduplicationJobId(coalesceId(k.queue, userId));
        const pending = pendingId ? await q.getJob(pendingId) : undefined;
        const dlId = rec[`dl:${k.name}`];
        const dl = dlId ? await queues.get(DEAD_LETTER_QUEUE).getJob(dlId) : undefined;
        const s = schedulers.get(k.name);
        return {
          kind: k.name,
          queue: k.queue,
          lastRun: rec[k.name] ? (JSON.parse(rec[k.name] as string) as LastRun) : null,
          current: pending ? { jobId: String(pending.id), state: await pending.getState() } : null,
          nextTick: s?.next ?? null,
          deadLetter: dl ? { id: String(dl.id), failedReason: String(dl.data.failedReason), failedAt: Number(dl.data.failedAt) } : null,
        };
      }),
    );
  }
}
