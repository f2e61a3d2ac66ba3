/**
 * Queues left behind: queues in Redis under this prefix whose kind is no longer in the catalog. Their
 * jobs stay (delayed ones would even run, should a kind of that name come back), nothing consumes
 * them, and a replay onto them would go nowhere; `status` lists them and `forget` removes them.
 */
import type { Queues } from '../jobs/queues.js';
import { DEAD_LETTER_QUEUE } from '../jobs/registry.js';
import { queueKey } from '../redis/keys.js';
import { forgetKnownQueue, knownQueues } from '../schedules/known-queues.js';
import { JOB_STATES, type JobState } from './job-states.js';

export interface OrphanQueue {
  queue: string;
  /** Its jobs by state. */
  jobs: Record<JobState, number>;
  /** Dead letters whose source is this queue. */
  deadLetters: number;
}

/** Dead letters per source queue, from their ids alone (each starts with its source queue). */
export async function deadLettersBySource(queues: Queues): Promise<Map<string, number>> {
  const ids = await queues.conn.lrange(queueKey(queues.prefix, DEAD_LETTER_QUEUE, 'wait'), 0, -1);
  const out = new Map<string, number>();
  for (const id of ids) {
    const q = id.slice(0, id.indexOf('__'));
    out.set(q, (out.get(q) ?? 0) + 1);
  }
  return out;
}

/**
 * The known queues (see known-queues.ts) that no kind of `catalogQueues` consumes and that still hold
 * a job or a dead letter; an empty one is nothing left behind. A queue with no key left at all
 * (removed by hand, say) is dropped from the known set.
 */
export async function orphanQueues(queues: Queues, catalogQueues: readonly string[]): Promise<OrphanQueue[]> {
  const names = (await knownQueues(queues.conn, queues.prefix)).filter((q) => !catalogQueues.includes(q));
  if (names.length === 0) return [];
  const dead = await deadLettersBySource(queues);
  const out: OrphanQueue[] = [];
  for (const queue of names) {
    const [counts, meta] = await Promise.all([
      queues.get(queue).getJobCounts(...JOB_STATES),
      queues.conn.exists(queueKey(queues.prefix, queue, 'meta')),
    ]);
    const jobs = Object.fromEntries(JOB_STATES.map((st) => [st, counts[st] ?? 0])) as Record<JobState, number>;
    const deadLetters = dead.get(queue) ?? 0;
    if (deadLetters > 0 || JOB_STATES.some((st) => jobs[st] > 0)) out.push({ queue, jobs, deadLetters });
    else if (!meta) await forgetKnownQueue(queues.conn, queues.prefix, queue);
  }
  return out;
}
