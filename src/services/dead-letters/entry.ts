/**
 * What a dead letter holds: the failed job with its history (source queue and id, data, attempts,
 * reason, last stack frames, first attempt and failure times, replays), enough to replay it exactly
 * and to understand it without digging. Entries are BullMQ jobs on a queue nothing consumes.
 */
import type { Job, Queue } from 'bullmq';
import { ownerOf } from '../../jobs/owner.js';
import type { DeadLetterData } from '../../jobs/registry.js';

/** The states a dead letter sits in: added, never consumed. */
export const DLQ_STATES = ['waiting', 'prioritized', 'delayed'] as const;

/** Entries and jobs are read and worked off in pages of this many. */
export const PAGE = 500;

export interface DeadLetter extends DeadLetterData {
  id: string;
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
  const owner = ownerOf(job.data);
  return {
    sourceQueue: queue,
    sourceJobId: String(job.id),
    name: job.name,
    data: job.data,
    ...(parent ? { parent } : {}),
    ...(owner ? { owner } : {}),
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

/** Every entry of the dead-letter queue matching `filter`, oldest first, in pages. */
export async function* entries(dlq: Queue, filter: (d: DeadLetterData) => boolean): AsyncIterable<Job> {
  let start = 0;
  for (;;) {
    const jobs = await dlq.getJobs([...DLQ_STATES], start, start + PAGE - 1, true);
    if (jobs.length === 0) return;
    let removedOrKept = 0;
    for (const j of jobs) {
      if (j && filter(j.data as DeadLetterData)) yield j;
      else removedOrKept++;
    }
    // Entries yielded are usually removed by the caller, which shifts the ranges; only skip the kept ones.
    start += removedOrKept;
    if (jobs.length < PAGE) return;
  }
}

export async function removeQuietly(job: Job | undefined): Promise<void> {
  if (!job) return;
  try {
    await job.remove();
  } catch {
    // Already gone, or locked by a worker that is running it again: either way not ours to remove.
  }
}
