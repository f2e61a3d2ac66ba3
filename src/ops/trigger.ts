/**
 * Runs a kind now or at a time: a manual tick the producers fan out (user kinds), one user's job
 * (`--user`), the kind's one job (global kinds) or one item's job (item kinds).
 */

import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import { addJob, jobData } from '../jobs/add-job.js';
import { InvalidJobError } from '../jobs/errors.js';
import type { Queues } from '../jobs/queues.js';
import { tickJobOptions } from '../jobs/queues.js';
import { globalJobId, JOB_NAMES, manualTickId, type TickJobData, userJobId } from '../jobs/registry.js';
import type { Subject } from '../jobs/subject.js';
import { scripted } from '../redis/commands.js';
import { manualClockKey } from '../redis/keys.js';
import { isPaused } from '../schedules/pause.js';

export interface Triggered {
  queue: string;
  jobId: string;
  runAt: string;
  kind: 'tick' | 'user' | 'global' | 'item';
  /** `--user`: merged into that user's job that had not started yet (its id is `jobId`). */
  coalesced?: boolean;
  /** The schedule is paused: this manual run goes ahead, its scheduled ticks stay skipped. */
  paused?: boolean;
  /** A fair kind's job: filed in its owner's backlog, it reaches the queue when fair admission admits it. */
  fair?: boolean;
  /** The owner named for an item or global job. */
  owner?: string;
}

export interface TriggerOptions {
  userId?: string;
  item?: { id: string; data?: unknown };
  at?: Date;
  /** Item and global kinds: whose job it is (a user job's owner is its user). */
  owner?: string;
}

/**
 * A manual tick's id holds a millisecond, and two runs with one id are one job: each run takes a
 * millisecond of its own, the first not yet taken for the kind at or after now (kept in Redis, so
 * processes sharing it never hand out the same one). Under a burst the ids run a few ms ahead.
 */
async function claimMillisecond(queues: Queues, kind: string, now: number): Promise<number> {
  return Number(await scripted(queues.conn).sjManualClock(manualClockKey(queues.prefix), kind, String(now)));
}

/** The scope's refusals: a user, an item or an owner given to a kind that takes none, or no item to an item kind. */
function checkScope(kind: KindConfig, opts: TriggerOptions): void {
  if (opts.userId !== undefined && kind.scope !== 'user')
    throw new InvalidJobError(`${kind.name} is a ${kind.scope} kind: a user (--user, userId in the API) applies to user kinds only`);
  if (opts.item !== undefined && kind.scope !== 'item')
    throw new InvalidJobError(`${kind.name} is a ${kind.scope} kind: an item (--item, item in the API) applies to item kinds only`);
  if (opts.owner !== undefined && kind.scope === 'user')
    throw new InvalidJobError(
      `${kind.name} is a user kind: its jobs are owned by their user; an owner (--owner, owner in the API) applies to item and global kinds only`,
    );
  if (kind.scope === 'item' && !opts.item)
    throw new InvalidJobError(`${kind.name} is an item kind: say which item (--item ID and --data JSON, item in the API)`);
}

/** The job's subject, or undefined for a manual tick (a user kind without a user). */
function subjectOf(kind: KindConfig, opts: TriggerOptions): Subject | undefined {
  const owned = opts.owner !== undefined ? { owner: opts.owner } : {};
  if (kind.scope === 'user') return opts.userId !== undefined ? { userId: opts.userId } : undefined;
  if (kind.scope === 'item') return { ...opts.item, ...owned } as Subject;
  return owned;
}

export async function trigger(queues: Queues, config: Config, kind: KindConfig, opts: TriggerOptions = {}): Promise<Triggered> {
  checkScope(kind, opts);
  const subject = subjectOf(kind, opts);
  const now = Date.now();
  const runAt = opts.at ? opts.at.getTime() : now;
  // A bad id or item is refused before anything reaches Redis: no millisecond of the manual clock
  // is taken for a run that will not be.
  if (subject) jobData(kind, subject, { scheduledFor: runAt });
  const delay = Math.max(0, runAt - now);
  const tickId = manualTickId(kind.name, await claimMillisecond(queues, kind.name, now));
  const paused = kind.schedule ? await isPaused(queues.conn, queues.prefix, kind.name) : false;
  const done = (what: Triggered['kind'], queue: string, jobId: string): Triggered => ({
    queue,
    jobId,
    runAt: new Date(runAt).toISOString(),
    kind: what,
    ...(paused ? { paused } : {}),
    ...(what !== 'tick' && kind.fair ? { fair: true } : {}),
    ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
  });
  // A job's delay has a limit, which addJob says (a tick's has none: BullMQ keeps it by time).
  const direct = (jobId: string, coalesce = false) =>
    addJob(queues, { kind, subject, jobId, scheduledFor: runAt, tick: tickId, delayMs: delay, coalesce });
  if (kind.scope === 'user' && opts.userId !== undefined) {
    // Coalesced like a fan-out job, so one user's jobs of a kind never run at the same time.
    const wanted = userJobId(tickId, opts.userId);
    const id = await direct(wanted, true);
    return { ...done('user', kind.queue, id), coalesced: id !== wanted };
  }
  if (kind.scope === 'global') return done('global', kind.queue, await direct(globalJobId(tickId)));
  if (kind.scope === 'item' && opts.item) return done('item', kind.queue, await direct(userJobId(tickId, opts.item.id)));
  const data: TickJobData = { schedule: kind.name, manual: true };
  const job = await queues.schedules().add(JOB_NAMES.tick, data, { ...tickJobOptions(config), jobId: tickId, delay });
  return done('tick', queues.schedules().name, String(job.id));
}
