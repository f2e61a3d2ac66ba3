/**
 * One tick → one job per user. Pages through the users, bulk-adds a page at a time with ids derived
 * from the tick and the user (so a fan-out redone after a crash adds nothing twice), coalesces users
 * whose previous job has not started, and spreads jobs over a window by a stable per-user delay.
 */
import type { JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import type { Handlers } from '../handlers/types.js';
import { userPages } from '../handlers/user-pages.js';
import type { KindConfig } from '../jobs/kinds.js';
import type { Queues } from '../jobs/queues.js';
import { jobOptions, queueKey } from '../jobs/queues.js';
import { coalesceId, JOB_NAMES, subjectId, type UserJobData, userJobId } from '../jobs/registry.js';
import type { Logger } from '../logger.js';
import { tracer } from '../tracing.js';
import { TickCursor } from './tick-cursor.js';

export interface FanOutProgress {
  users: number;
  added: number;
  coalesced: number;
  errors: number;
  /** Set when a newer tick of the schedule started while this one was paging: it stopped there. */
  superseded?: boolean;
}

/** The longest pause between two looks at a full window. */
const ROOM_POLL_MAX_MS = 500;

export interface Tick {
  kind: KindConfig;
  tickId: string;
  scheduledFor: number;
  spreadMs: number;
  /**
   * At most this many of the queue's jobs wait (not yet started) while the tick pages; 0 adds every
   * user at once. Ticks get SPOTTER_JOBS_FANOUT_WINDOW (windowFor).
   */
  window?: number;
}

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
  const queueName = tick.kind.queue;
  const queue = deps.queues.get(queueName);
  const base: JobsOptions = jobOptions(tick.kind);
  const window = tick.window ?? 0;
  const cursor = new TickCursor(deps.queues.conn, deps.config.prefix, tick.kind.name, tick.tickId, tick.scheduledFor);
  // A tick taken over from a producer that died goes on where that one stopped.
  const saved = await cursor.load();
  const p: FanOutProgress = saved ? { ...saved.progress } : { users: 0, added: 0, coalesced: 0, errors: 0 };
  // A superseded tick never pages again: its cursor goes at once.
  const supersede = async () => {
    await cursor.finish();
    return { ...p, superseded: true };
  };
  if (!(await cursor.claim())) return supersede();
  // With a window, pages are at most half of it, so a page fits as soon as half the window drained.
  const pageSize = window > 0 ? Math.min(deps.config.fanoutPage, Math.max(1, Math.floor(window / 2))) : deps.config.fanoutPage;
  let pageNo = 0;
  for await (const page of userPages(deps.handlers, saved?.position ?? { skip: 0 }, pageSize, signal)) {
    if (signal?.aborted) throw new Error('fan-out aborted');
    const room = window > 0 ? await waitForRoom(window - page.users.length) : (await cursor.superseded()) ? 'superseded' : 'room';
    if (room === 'superseded') return supersede();
    // One span per page (tracing on): the parent of the BullMQ add whose context every job carries.
    await tracer.startActiveSpan('fan-out page', async (span) => {
      try {
        const before = { ...p };
        await addPage(page.users);
        span.setAttributes({
          'spotter.schedule': tick.kind.name,
          'spotter.tick_id': tick.tickId,
          'spotter.page': pageNo++,
          'spotter.page.users': p.users - before.users,
          'spotter.page.added': p.added - before.added,
          'spotter.page.coalesced': p.coalesced - before.coalesced,
        });
      } catch (err) {
        span.recordException(err as Error);
        throw err;
      } finally {
        span.end();
      }
    });
    // Saved after the add: a crash in between redoes the page, and the job ids add nothing twice.
    await cursor.save({ position: page.next, progress: p });
    await onPage?.({ ...p });
  }
  await cursor.finish();
  return p;

  /**
   * Waits until the queue holds at most `limit` jobs not yet started (waiting, prioritized, delayed:
   * everything that occupies Redis before a worker takes it), or a newer tick of the schedule starts.
   */
  async function waitForRoom(limit: number): Promise<'room' | 'superseded'> {
    for (let delay = 20; ; delay = Math.min(delay * 2, ROOM_POLL_MAX_MS)) {
      if (await cursor.superseded()) return 'superseded';
      const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
      if ((c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) <= limit) return 'room';
      if (signal?.aborted) throw new Error('fan-out aborted');
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async function addPage(page: readonly string[]): Promise<void> {
    if (signal?.aborted) throw new Error('fan-out aborted');
    const jobs: { name: string; data: UserJobData; opts: JobsOptions }[] = [];
    for (const userId of page) {
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
      const delay = spreadDelay(userId, tick.spreadMs);
      jobs.push({
        name: JOB_NAMES.user,
        // The tick is in the job's id (tickOf reads it back), not repeated in its data.
        data: { userId, scheduledFor: tick.scheduledFor },
        opts: {
          ...base,
          jobId: userJobId(tick.tickId, userId),
          ...(delay > 0 ? { delay } : {}),
          // Coalescing, done by BullMQ in the same Lua call as the add: while the user's previous job
          // waits (or waits for a retry), this add is merged into it; while it runs, this one is kept
          // and enqueued the moment it finishes. At most one waiting and one running per user, and
          // never two of a user's jobs at once.
          deduplication: { id: coalesceId(userId), keepLastIfActive: true },
        },
      });
    }
    if (jobs.length > 0) {
      const added = await queue.addBulk(jobs);
      // A merged add returns the id of the user's existing job instead of the new one. If that job is
      // running, the new job was kept for later (added); otherwise it was coalesced into it.
      const merged = added.filter((job, i) => job.id !== jobs[i]?.opts.jobId).map((job) => String(job.id));
      p.added += added.length - merged.length;
      if (merged.length > 0) {
        const activeKey = queueKey(deps.config.prefix, queueName, 'active');
        const pipe = deps.queues.conn.pipeline();
        for (const id of merged) pipe.lpos(activeKey, id);
        const res = (await pipe.exec()) ?? [];
        const running = res.filter(([, pos]) => pos !== null && pos !== undefined).length;
        p.added += running;
        p.coalesced += merged.length - running;
      }
    }
  }
}
