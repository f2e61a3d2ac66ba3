/**
 * One tick → one job per user. Pages through the users, bulk-adds a page at a time with ids derived
 * from the tick and the user (so a fan-out redone after a crash adds nothing twice), coalesces users
 * whose previous job has not started, and spreads jobs over a window by a stable per-user delay.
 */
import type { JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import type { Handlers } from '../handlers/types.js';
import type { Queues } from '../jobs/queues.js';
import { userJobOptions } from '../jobs/queues.js';
import { coalesceId, JOB_NAMES, SCHEDULES, type ScheduleName, type UserJobData, userJobData, userJobId } from '../jobs/registry.js';
import type { Logger } from '../logger.js';

export interface FanOutProgress {
  users: number;
  added: number;
  coalesced: number;
  errors: number;
}

export interface Tick {
  schedule: ScheduleName;
  tickId: string;
  scheduledFor: number;
  spreadMs: number;
}

const userIdSchema = userJobData.shape.userId;

/** FNV-1a: a cheap, stable hash, so a user's place in the spread window is the same every tick. */
export function spreadDelay(userId: string, spreadMs: number): number {
  if (spreadMs <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % spreadMs;
}

export async function fanOut(
  deps: { queues: Queues; handlers: Handlers; config: Config; log: Logger },
  tick: Tick,
  onPage?: (p: FanOutProgress) => Promise<void>,
  signal?: AbortSignal,
): Promise<FanOutProgress> {
  const queueName = SCHEDULES[tick.schedule].queue;
  const queue = deps.queues.get(queueName);
  const base: JobsOptions = userJobOptions(deps.config, queueName);
  const p: FanOutProgress = { users: 0, added: 0, coalesced: 0, errors: 0 };
  for await (const page of deps.handlers.listUsers(deps.config.fanoutPage, signal)) {
    if (signal?.aborted) throw new Error('fan-out aborted');
    const jobs: { name: string; data: UserJobData; opts: JobsOptions }[] = [];
    for (const userId of page) {
      p.users++;
      if (!userIdSchema.safeParse(userId).success) {
        // Counted and reported, never dropped silently; such an id could not be a job id anyway.
        p.errors++;
        deps.log.warn(
          { schedule: tick.schedule, userId: String(userId).slice(0, 100) },
          'user listing returned an invalid user id; skipped',
        );
        continue;
      }
      const delay = spreadDelay(userId, tick.spreadMs);
      jobs.push({
        name: JOB_NAMES.user,
        data: { userId, scheduledFor: tick.scheduledFor, tick: tick.tickId },
        opts: {
          ...base,
          jobId: userJobId(tick.tickId, userId),
          ...(delay > 0 ? { delay } : {}),
          deduplication: { id: coalesceId(queueName, userId) },
        },
      });
    }
    if (jobs.length > 0) {
      const added = await queue.addBulk(jobs);
      for (const [i, job] of added.entries()) {
        // A coalesced add returns the user's job that is still waiting instead of a new one.
        if (job.id === jobs[i]?.opts.jobId) p.added++;
        else p.coalesced++;
      }
    }
    await onPage?.({ ...p });
  }
  return p;
}
