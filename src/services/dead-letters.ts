/**
 * The dead-letter queue: jobs that failed for good, kept in Redis with their history until replayed
 * or purged. Entries are BullMQ jobs on a queue nothing consumes, so Bull Board shows them too.
 *
 * Invariant kept here: every job in a work queue's `failed` set has exactly one dead letter. The
 * worker records it the moment the job fails (fast path) and `sweep` re-checks the `failed` sets,
 * so a worker that dies between the two loses nothing. Ids are derived from the source job, so
 * nothing is dead-lettered twice.
 */
import type { Job, JobsOptions } from 'bullmq';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { jobOptions } from '../jobs/queues.js';
import {
  coalesceId,
  DEAD_LETTER_QUEUE,
  type DeadLetterData,
  deadLetterId,
  JOB_NAMES,
  kindByQueue,
  replayJobId,
  tickOf,
  workQueues,
} from '../jobs/registry.js';
import { scripted } from '../redis/commands.js';
import { queueKey } from '../redis/keys.js';
import { recordReplayed } from '../schedules/tick-jobs.js';

const DLQ_STATES = ['waiting', 'prioritized', 'delayed'] as const;

/**
 * Fields spotter-jobs keeps in a source job's own hash, beside BullMQ's (which leaves unknown fields
 * alone and removes them with the job): when its first attempt started, since BullMQ overwrites
 * `processedOn` on every attempt; and that it was dead-lettered, so a dead letter deleted on purpose
 * (on the board, say) is not recorded again by the sweep.
 */
export const FIRST_ATTEMPT_FIELD = 'sjFirstAttemptAt';
export const DEAD_LETTERED_FIELD = 'sjDeadLetteredAt';

export interface DeadLetter extends DeadLetterData {
  id: string;
}

export interface Replayed {
  /** Ids of the jobs added back. */
  replayed: string[];
  missing: string[];
  /** Dead letters retired without a replay: their jobs were retried since. */
  settled: string[];
  /** Refused: their kind is gone from the catalog, so nothing would consume the replay. */
  orphaned: Array<{ id: string; queue: string }>;
}

/** BullMQ's words for a job whose worker kept dying under it, said so an operator sees why. */
function explain(job: Job, reason: string): string {
  if (/stalled more than allowable limit/.test(reason)) {
    return `its worker died while running it ${job.stalledCounter ?? 'several'} time(s) (a job that crashes its worker?): ${reason}`;
  }
  return reason;
}

export function toDeadLetter(queue: string, job: Job, reason?: string, firstAttemptAt?: number): DeadLetterData {
  const parent = (job.data as { parent?: DeadLetterData['parent'] } | undefined)?.parent;
  return {
    sourceQueue: queue,
    sourceJobId: String(job.id),
    name: job.name,
    data: job.data,
    ...(parent ? { parent } : {}),
    attemptsMade: Math.max(job.attemptsMade, job.attemptsStarted ?? 0),
    failedReason: explain(job, reason ?? job.failedReason ?? 'unknown'),
    stacktrace: (job.stacktrace ?? []).slice(-5),
    createdAt: job.timestamp,
    firstAttemptAt: firstAttemptAt ?? job.processedOn ?? null,
    failedAt: job.finishedOn ?? Date.now(),
    deadLetteredAt: Date.now(),
    replays: (String(job.id).match(/__replay/g) ?? []).length,
  };
}

export class DeadLetters {
  constructor(
    private readonly queues: Queues,
    private readonly config: Config,
  ) {}

  private get dlq() {
    return this.queues.get(DEAD_LETTER_QUEUE);
  }

  /**
   * Records a finally-failed job; a second call for the same failure is a no-op, a later failure of
   * the same job (retried on the board, say) refreshes the entry. Returns the entry id.
   */
  async record(queue: string, job: Job, reason?: string): Promise<string> {
    const id = deadLetterId(queue, String(job.id));
    const key = queueKey(this.config.prefix, queue, String(job.id));
    const first = Number((await this.queues.conn.hget(key, FIRST_ATTEMPT_FIELD)) ?? Number.NaN);
    const entry = toDeadLetter(queue, job, reason, Number.isFinite(first) ? first : undefined);
    const existing = await this.dlq.getJob(id);
    if (existing && (existing.data as DeadLetterData).failedAt < entry.failedAt) await existing.updateData(entry);
    else if (!existing) await this.dlq.add(JOB_NAMES.deadLetter, entry, { jobId: id, removeOnComplete: true, removeOnFail: true });
    // Marks the source as recorded; only if it still exists, so no bare hash is left behind.
    await scripted(this.queues.conn).sjMarkIfExists(key, DEAD_LETTERED_FIELD, String(Date.now()));
    return id;
  }

  /**
   * Records every job that reached `failed` since `sinceMs` and has no dead letter yet. Returns how
   * many it recorded, which is 0 unless a worker died at the wrong moment.
   */
  async sweep(sinceMs: number, queues: readonly string[] = workQueues(this.config)): Promise<number> {
    const conn = this.queues.conn;
    let recorded = 0;
    for (const q of queues) {
      const ids = (await conn.zrangebyscore(queueKey(this.config.prefix, q, 'failed'), sinceMs, '+inf')) as string[];
      for (let i = 0; i < ids.length; i += 500) {
        const batch = ids.slice(i, i + 500);
        const p = conn.pipeline();
        for (const id of batch) {
          p.hexists(queueKey(this.config.prefix, q, id), DEAD_LETTERED_FIELD);
          p.exists(queueKey(this.config.prefix, DEAD_LETTER_QUEUE, deadLetterId(q, id)));
        }
        const res = (await p.exec()) ?? [];
        for (let j = 0; j < batch.length; j++) {
          // Recorded before (even if that dead letter was deleted since), or an entry from before the mark.
          if (res[2 * j]?.[1] || res[2 * j + 1]?.[1]) continue;
          const job = await this.queues.get(q).getJob(batch[j] as string);
          if (job?.finishedOn) {
            await this.record(q, job);
            recorded++;
          }
        }
      }
    }
    return recorded;
  }

  /** Newest first; `queue` filters by source queue. */
  async list(opts: { queue?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = opts.limit ?? 50;
    const out: DeadLetter[] = [];
    // Entries are read in pages so a large dead-letter queue is never loaded whole to show 50.
    const page = 500;
    for (let start = 0; out.length < limit; start += page) {
      const jobs = await this.dlq.getJobs([...DLQ_STATES], start, start + page - 1, false);
      if (jobs.length === 0) break;
      for (const j of jobs) {
        if (!j) continue;
        const d = j.data as DeadLetterData;
        if (opts.queue && d.sourceQueue !== opts.queue) continue;
        out.push({ id: String(j.id), ...d });
        if (out.length >= limit) break;
      }
      if (jobs.length < page) break;
    }
    return out;
  }

  async count(): Promise<number> {
    const c = await this.dlq.getJobCounts(...DLQ_STATES);
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  /** Every entry matching `filter`, oldest first, in pages. */
  private async *entries(filter: (d: DeadLetterData) => boolean): AsyncIterable<Job> {
    const page = 500;
    let start = 0;
    for (;;) {
      const jobs = await this.dlq.getJobs([...DLQ_STATES], start, start + page - 1, true);
      if (jobs.length === 0) return;
      let removedOrKept = 0;
      for (const j of jobs) {
        if (j && filter(j.data as DeadLetterData)) yield j;
        else removedOrKept++;
      }
      // Entries yielded are usually removed by the caller, which shifts the ranges; only skip the kept ones.
      start += removedOrKept;
      if (jobs.length < page) return;
    }
  }

  /**
   * Puts dead letters back on their source queue with fresh attempts. Order matters for "nothing
   * lost": the new job is added first (deterministic id, so a crash and a second replay add it once),
   * then the failed original and the dead letter are removed.
   */
  async replay(sel: { ids?: string[]; queue?: string; all?: boolean }): Promise<Replayed> {
    const replayed: string[] = [];
    const missing: string[] = [];
    const settled: string[] = [];
    const orphaned: Replayed['orphaned'] = [];
    const one = async (entry: Job) => {
      const d = entry.data as DeadLetterData;
      const kind = kindByQueue(this.config, d.sourceQueue);
      if (!kind) {
        // Its kind is gone from the catalog: nothing consumes that queue, so a replay would go nowhere.
        orphaned.push({ id: String(entry.id), queue: d.sourceQueue });
        return;
      }
      const source = this.queues.get(d.sourceQueue);
      const original = await source.getJob(d.sourceJobId);
      const state = original ? await original.getState() : undefined;
      if (state !== undefined && state !== 'failed' && state !== 'unknown') {
        // Retried since (on the board, say) and waiting, running or done: replaying would run it twice.
        await removeQuietly(entry);
        settled.push(entry.id as string);
        return;
      }
      const newId = replayJobId(d.sourceJobId);
      const opts: JobsOptions = jobOptions(kind);
      const userId = (d.data as { userId?: unknown } | null)?.userId;
      // The same per-user guarantee as fan-out: merged into the user's job that has not started yet,
      // kept for after the one that is running.
      if (typeof userId === 'string') opts.deduplication = { id: coalesceId(userId), keepLastIfActive: true };
      await source.add(d.name, d.data, { ...opts, jobId: newId });
      await removeQuietly(original);
      await removeQuietly(entry);
      const tick = tickOf(kind.name, d.sourceJobId, (d.data ?? {}) as Parameters<typeof tickOf>[2]);
      if (tick) await recordReplayed(this.queues.conn, this.config.prefix, kind.name, tick);
      replayed.push(newId);
    };
    if (sel.ids) {
      for (const id of sel.ids) {
        const entry = await this.dlq.getJob(id);
        if (entry) await one(entry);
        else missing.push(id);
      }
    } else if (sel.all || sel.queue) {
      for await (const entry of this.entries((d) => !sel.queue || d.sourceQueue === sel.queue)) await one(entry);
    }
    return { replayed, missing, settled, orphaned };
  }

  /**
   * Retires the dead letters whose source job was requeued since (a retry on the board, or anything
   * else that moved it out of `failed`): the entry no longer describes a failed job, and a replay
   * would run it twice. Returns how many it retired. Two commands per entry, pipelined.
   */
  async retireSettled(): Promise<number> {
    const conn = this.queues.conn;
    const ids = await conn.lrange(queueKey(this.config.prefix, DEAD_LETTER_QUEUE, 'wait'), 0, -1);
    let retired = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500).map((id) => {
        const cut = id.indexOf('__');
        return { id, queue: id.slice(0, cut), jobId: id.slice(cut + 2) };
      });
      const p = conn.pipeline();
      for (const b of batch) {
        p.exists(queueKey(this.config.prefix, b.queue, b.jobId));
        p.zscore(queueKey(this.config.prefix, b.queue, 'failed'), b.jobId);
      }
      const res = (await p.exec()) ?? [];
      for (const [j, b] of batch.entries()) {
        const exists = res[2 * j]?.[1] === 1;
        const failed = res[2 * j + 1]?.[1] !== null && res[2 * j + 1]?.[1] !== undefined;
        if (!exists || failed) continue;
        await removeQuietly(await this.dlq.getJob(b.id));
        retired++;
      }
    }
    return retired;
  }

  /** Removes dead letters (and their failed originals, so the sweep does not bring them back). */
  async purge(sel: { queue?: string; olderThanMs?: number } = {}): Promise<number> {
    const cutoff = sel.olderThanMs === undefined ? Number.POSITIVE_INFINITY : Date.now() - sel.olderThanMs;
    let n = 0;
    for await (const entry of this.entries((d) => (!sel.queue || d.sourceQueue === sel.queue) && d.deadLetteredAt <= cutoff)) {
      const d = entry.data as DeadLetterData;
      await removeQuietly(await this.queues.get(d.sourceQueue).getJob(d.sourceJobId));
      await removeQuietly(entry);
      n++;
    }
    return n;
  }
}

async function removeQuietly(job: Job | undefined): Promise<void> {
  if (!job) return;
  try {
    await job.remove();
  } catch {
    // Already gone, or locked by a worker that is running it again: either way not ours to remove.
  }
}
