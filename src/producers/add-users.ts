/**
 * Adds one tick's jobs for a slice of its user listing, in one bulk add, and counts what happened to
 * each listed id: added, coalesced into the user's waiting job, already given this tick's job
 * (`duplicates`), or invalid. The four always add up to the users listed.
 */
import type { JobsOptions } from 'bullmq';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { coalescing, jobOptions } from '../jobs/queues.js';
import { JOB_NAMES, subjectId, type UserJobData, userJobId } from '../jobs/registry.js';
import { queueKey } from '../redis/keys.js';
import type { Logger } from '../telemetry/logger.js';
import type { AddCounts, Tick } from './tick.js';

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

type Deps = { queues: Queues; config: Config; log: Logger };
type NewJob = { name: string; data: UserJobData; opts: JobsOptions & { jobId: string } };

/**
 * Adds the jobs of `users` for `tick`, counting into `p`. With `firstBulk`, the first that many go in
 * a bulk add of their own, ahead of the rest: a bulk add reaches Redis only once all its jobs are
 * built, and workers wait for it.
 */
export async function addUsers(deps: Deps, tick: Tick, users: readonly string[], p: AddCounts, firstBulk?: number): Promise<void> {
  const jobs = jobsFor(deps, tick, users, p);
  if (jobs.length === 0) return;
  const queueName = tick.kind.queue;
  const fresh = await notAddedYet(deps, queueName, jobs);
  p.duplicates += jobs.length - fresh.length;
  if (fresh.length === 0) return;
  const cut = firstBulk !== undefined && fresh.length > firstBulk ? firstBulk : fresh.length;
  await addBulk(deps, queueName, fresh.slice(0, cut), p);
  if (cut < fresh.length) await addBulk(deps, queueName, fresh.slice(cut), p);
}

/** One bulk add, counted: each job added, or merged into the user's job (added behind it when that one runs). */
async function addBulk(deps: Deps, queueName: string, jobs: NewJob[], p: AddCounts): Promise<void> {
  const added = await deps.queues.get(queueName).addBulk(jobs);
  // A merged add returns the id of the user's existing job instead of the new one. If that job is
  // running, the new job was kept for later (added); otherwise it was coalesced into it. Looked at
  // right after its add: workers that start meanwhile would make more of them look running.
  const merged = added.filter((job, i) => job.id !== jobs[i]?.opts.jobId).map((job) => String(job.id));
  p.added += added.length - merged.length;
  if (merged.length === 0) return;
  const activeKey = queueKey(deps.config.prefix, queueName, 'active');
  const pipe = deps.queues.conn.pipeline();
  for (const id of merged) pipe.lpos(activeKey, id);
  const running = ((await pipe.exec()) ?? []).filter(([, pos]) => pos !== null && pos !== undefined).length;
  p.added += running;
  p.coalesced += merged.length - running;
}

/**
 * The jobs whose job of this tick does not exist yet. One that does (the user was listed on an
 * earlier page, or this page is redone after a crash) would be a no-op add that BullMQ reports like
 * a new job. One EXISTS over all the keys answers how many exist (the ids are distinct, and under a
 * cluster's hash-tagged prefix in one slot): nearly always none, and then no command per job is
 * needed; only when some exist does a pipeline find which.
 */
async function notAddedYet(deps: Deps, queueName: string, jobs: NewJob[]): Promise<NewJob[]> {
  const keys = jobs.map((j) => queueKey(deps.config.prefix, queueName, j.opts.jobId));
  if ((await deps.queues.conn.exists(...keys)) === 0) return jobs;
  const exists = deps.queues.conn.pipeline();
  for (const key of keys) exists.exists(key);
  const res = (await exists.exec()) ?? [];
  return jobs.filter((_, i) => res[i]?.[1] !== 1);
}

/** The jobs to add: invalid ids and ids repeated in the slice counted, not added. */
function jobsFor(deps: Deps, tick: Tick, users: readonly string[], p: AddCounts): NewJob[] {
  const base = jobOptions(tick.kind);
  const seen = new Set<string>();
  const jobs: NewJob[] = [];
  for (const userId of users) {
    p.users++;
    if (!subjectId.safeParse(userId).success) {
      // Counted and reported, never dropped silently; such an id could not be a job id anyway.
      p.errors++;
      deps.log.warn(
        { schedule: tick.kind.name, userId: String(userId).slice(0, 100) },
        'user listing returned an invalid user id; skipped',
      );
      continue;
    }
    if (seen.has(userId)) {
      p.duplicates++;
      continue;
    }
    seen.add(userId);
    const delay = spreadDelay(userId, tick.spreadMs);
    jobs.push({
      name: JOB_NAMES.user,
      // The tick is in the job's id (tickOf reads it back), not repeated in its data.
      data: { userId, scheduledFor: tick.scheduledFor },
      opts: {
        ...base,
        jobId: userJobId(tick.tickId, userId),
        ...(delay > 0 ? { delay } : {}),
        ...coalescing(userId),
      },
    });
  }
  return jobs;
}
