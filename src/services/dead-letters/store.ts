/**
 * The dead-letter queue: jobs that failed for good, kept in Redis with their history until replayed
 * or purged. Entries are BullMQ jobs on a queue nothing consumes, so Bull Board shows them too.
 *
 * Invariant kept here: every job in a work queue's `failed` set has exactly one dead letter. The
 * worker records it the moment the job fails (fast path, `on-failed.ts`) and `sweep` re-checks the
 * `failed` sets (on retention's timer, `sweep.ts`), so a worker that dies between the two loses
 * nothing. Ids are derived from the source job, so nothing is dead-lettered twice.
 */
import type { Job } from 'bullmq';
import type { Config } from '../../config/config.js';
import type { Queues } from '../../jobs/queues.js';
import { DEAD_LETTER_QUEUE, type DeadLetterData, deadLetterId, JOB_NAMES, workQueues } from '../../jobs/registry.js';
import { scripted } from '../../redis/commands.js';
import { queueKey } from '../../redis/keys.js';
import { type DeadLetter, DLQ_STATES, entries, PAGE, removeQuietly, toDeadLetter } from './entry.js';
import { type Replayed, type ReplaySelection, replay } from './replay.js';
import { DEAD_LETTERED_FIELD, firstAttemptOf } from './source-fields.js';

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
    const entry = toDeadLetter(queue, job, reason, await firstAttemptOf(this.queues.conn, key));
    const existing = await this.dlq.getJob(id);
    if (existing && (existing.data as DeadLetterData).failedAt < entry.failedAt) await existing.updateData(entry);
    else if (!existing) await this.dlq.add(JOB_NAMES.deadLetter, entry, { jobId: id, removeOnComplete: true, removeOnFail: true });
    // Marks the source as recorded; only if it still exists, so no bare hash is left behind.
    await scripted(this.queues.conn).sjFieldIfExists(key, 'set', DEAD_LETTERED_FIELD, String(Date.now()));
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
      for (let i = 0; i < ids.length; i += PAGE) {
        const batch = ids.slice(i, i + PAGE);
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
    for (let start = 0; out.length < limit; start += PAGE) {
      const jobs = await this.dlq.getJobs([...DLQ_STATES], start, start + PAGE - 1, false);
      if (jobs.length === 0) break;
      for (const j of jobs) {
        if (!j) continue;
        const d = j.data as DeadLetterData;
        if (opts.queue && d.sourceQueue !== opts.queue) continue;
        out.push({ id: String(j.id), ...d });
        if (out.length >= limit) break;
      }
      if (jobs.length < PAGE) break;
    }
    return out;
  }

  async count(): Promise<number> {
    const c = await this.dlq.getJobCounts(...DLQ_STATES);
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  /** Puts dead letters back on their source queue with fresh attempts (`replay.ts`). */
  replay(sel: ReplaySelection): Promise<Replayed> {
    return replay(this.queues, this.config, this.dlq, sel);
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
    for (let i = 0; i < ids.length; i += PAGE) {
      const batch = ids.slice(i, i + PAGE).map((id) => {
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
    for await (const entry of entries(this.dlq, (d) => (!sel.queue || d.sourceQueue === sel.queue) && d.deadLetteredAt <= cutoff)) {
      const d = entry.data as DeadLetterData;
      await removeQuietly(await this.queues.get(d.sourceQueue).getJob(d.sourceJobId));
      await removeQuietly(entry);
      n++;
    }
    return n;
  }
}
