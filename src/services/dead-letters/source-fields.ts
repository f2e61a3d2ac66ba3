/**
 * Fields spotter-jobs keeps in a source job's own hash, beside BullMQ's (which leaves unknown fields
 * alone and removes them with the job): when its first attempt started, since BullMQ overwrites
 * `processedOn` on every attempt; and that it was dead-lettered, so a dead letter deleted on purpose
 * (on the board, say) is not recorded again by the sweep.
 */
import type { Queues } from '../../jobs/queues.js';
import type { RedisClient } from '../../redis/connection.js';
import { queueKey } from '../../redis/keys.js';

export const FIRST_ATTEMPT_FIELD = 'sjFirstAttemptAt';
export const DEAD_LETTERED_FIELD = 'sjDeadLetteredAt';

/**
 * Keeps when a job's first attempt started, for its dead letter. Called by the worker on a failed
 * first attempt only, so a job that succeeds costs nothing more; a failed write only loses that time.
 */
export async function stampFirstAttempt(queues: Queues, queue: string, jobId: string, started: number): Promise<void> {
  await queues.conn.hset(queueKey(queues.prefix, queue, jobId), FIRST_ATTEMPT_FIELD, String(started)).catch(() => {});
}

/** When the job's first attempt started, if a failed first attempt stamped it. */
export async function firstAttemptOf(conn: RedisClient, jobKey: string): Promise<number | undefined> {
  const first = Number((await conn.hget(jobKey, FIRST_ATTEMPT_FIELD)) ?? Number.NaN);
  return Number.isFinite(first) ? first : undefined;
}
