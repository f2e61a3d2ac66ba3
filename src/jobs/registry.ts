/**
 * The one registry of queues and job payloads. Every process, the CLI and the web layer import
 * queue names and payload shapes from here; no other file spells a queue name.
 */
import { z } from 'zod';

/** Queues that carry one job per user per tick. */
export const WORK_QUEUES = ['sync', 'enrichment', 'writeback'] as const;
export type WorkQueue = (typeof WORK_QUEUES)[number];

/** Schedules, as Spotter names them, and the queue each one fans out into. */
export const SCHEDULES = {
  sync: { queue: 'sync' },
  enrichment: { queue: 'enrichment' },
  'write-back': { queue: 'writeback' },
} as const satisfies Record<string, { queue: WorkQueue }>;
export type ScheduleName = keyof typeof SCHEDULES;
export const SCHEDULE_NAMES = Object.keys(SCHEDULES) as ScheduleName[];

/** Holds the three job schedulers; each tick is one job here, consumed by producers. */
export const SCHEDULE_QUEUE = 'schedules';
/** Jobs that failed for good; nothing consumes it, so entries stay until replayed or purged. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

export const ALL_QUEUES = [...WORK_QUEUES, SCHEDULE_QUEUE, DEAD_LETTER_QUEUE] as const;
export type QueueName = (typeof ALL_QUEUES)[number];

export function isWorkQueue(name: string): name is WorkQueue {
  return (WORK_QUEUES as readonly string[]).includes(name);
}
export function isScheduleName(name: string): name is ScheduleName {
  return Object.hasOwn(SCHEDULES, name);
}

/**
 * A per-user job. Ids only: the worker looks up tokens itself, so a leaked Redis dump holds no
 * credentials. Validated again on the worker side, because anything may have written to Redis.
 */
export const userJobData = z.strictObject({
  userId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._@-]+$/, 'userId may hold letters, digits and . _ @ - only'),
  /** When the tick that produced this job was due (epoch ms). */
  scheduledFor: z.number().int().nonnegative(),
  /** Id of the tick job, or `manual` for a job added by `trigger --user`. */
  tick: z.string().min(1).max(300),
});
export type UserJobData = z.infer<typeof userJobData>;

/** A schedule tick: the producer that takes it fans it out to every user. */
export interface TickJobData {
  schedule: ScheduleName;
  /** Set for ticks added by `trigger` or the API rather than by the scheduler. */
  manual?: boolean;
}

/** What a dead letter keeps: enough to replay exactly and to understand without digging. */
export interface DeadLetterData {
  sourceQueue: WorkQueue;
  sourceJobId: string;
  name: string;
  data: unknown;
  attemptsMade: number;
  failedReason: string;
  stacktrace: string[];
  /** epoch ms */
  createdAt: number;
  firstAttemptAt: number | null;
  failedAt: number;
  deadLetteredAt: number;
  /** How many times this job has already been replayed from the dead-letter queue. */
  replays: number;
}

/** Job names, one per queue kind, so Bull Board rows read well. */
export const JOB_NAMES = {
  user: 'user',
  tick: 'tick',
  deadLetter: 'dead-letter',
} as const;

/*
 * Job ids. BullMQ refuses custom ids containing ':' (its own key separator), so ids are joined with
 * '__', which neither tick ids nor queue names contain: the first '__' always marks the boundary.
 */

/** The deterministic id of a user's job within one tick: adding it twice adds it once. */
export function userJobId(tickId: string, userId: string): string {
  return `${tickId.replaceAll(':', '_')}__${userId}`;
}

/** Id of a tick added by hand (`trigger`, the API), unique per schedule and millisecond. */
export function manualTickId(schedule: ScheduleName, now: number): string {
  return `manual_${schedule}_${now}`;
}

/** Coalescing key: at most one not-yet-started job per queue and user. */
export function coalesceId(queue: WorkQueue, userId: string): string {
  return `${queue}:${userId}`;
}

/** A dead letter's id is derived from its source job, so the same failure is recorded once. */
export function deadLetterId(queue: WorkQueue, jobId: string): string {
  return `${queue}__${jobId}`;
}

/** Id of a dead letter's job once replayed on its source queue; deterministic, so a replay redone after a crash adds it once. */
export function replayJobId(sourceJobId: string): string {
  return `${sourceJobId}__replay`;
}
