/**
 * The one registry of queues and job payloads. Queue names come from the catalog of kinds (one
 * queue per kind) plus the service's own two; every process, the CLI and the web layer look them
 * up here and spell none of them.
 */
import { z } from 'zod';
import type { Scope } from '../config/catalog.js';
import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import { MAX_CHAIN_DEPTH } from '../config/kind-config.js';

/** Holds one job scheduler per scheduled kind; each tick is one job here, consumed by producers. */
export const SCHEDULE_QUEUE = 'schedules';
/** Jobs that failed for good; nothing consumes it, so entries stay until replayed or purged. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

/** What the look-ups below need of the configuration: its kinds, by name. */
export type KindCatalog = Pick<Config, 'kinds'>;

/** Every kind, in catalog order. */
export function kindsOf(config: KindCatalog): KindConfig[] {
  return Object.values(config.kinds);
}

/** The kinds that have a schedule (enabled or not). */
export function scheduledKinds(config: KindCatalog): KindConfig[] {
  return kindsOf(config).filter((k) => k.schedule !== undefined);
}

/** The queues that carry work, one per kind. */
export function workQueues(config: KindCatalog): string[] {
  return kindsOf(config).map((k) => k.queue);
}

/** Every queue: the kinds', the schedule queue and the dead-letter queue. */
export function allQueues(config: KindCatalog): string[] {
  return [...workQueues(config), SCHEDULE_QUEUE, DEAD_LETTER_QUEUE];
}

export function kindByName(config: KindCatalog, name: string): KindConfig | undefined {
  return Object.hasOwn(config.kinds, name) ? config.kinds[name] : undefined;
}

/** The kind whose queue is `queue`. */
export function kindByQueue(config: KindCatalog, queue: string): KindConfig | undefined {
  return kindsOf(config).find((k) => k.queue === queue);
}

/** A kind by its name or its queue's name (they differ only for Spotter's write-back). */
export function kindByNameOrQueue(config: KindCatalog, name: string): KindConfig | undefined {
  return kindByName(config, name) ?? kindByQueue(config, name);
}

/** Users and items share one id rule: an id is part of a job id, and shows in logs and URLs. */
// One pattern rather than min, max and a pattern: it is checked for every job a worker runs.
export const subjectId = z.string().regex(/^[A-Za-z0-9._@-]{1,200}$/, 'may hold letters, digits and . _ @ - only, 1 to 200 of them');

/**
 * Why `id` is not a user, item or owner id (`what` names which), or undefined when it is one: empty,
 * too long, or other characters, with the id shown (its first 80 characters and its length when longer).
 */
export function badSubjectId(what: string, id: string): string | undefined {
  if (subjectId.safeParse(id).success) return undefined;
  const chars = Array.from(id);
  const shown = chars.length > 80 ? `"${chars.slice(0, 80).join('')}…" (${chars.length} characters)` : `"${id}"`;
  const why =
    id.length === 0
      ? 'it is empty'
      : id.length > 200
        ? 'it is longer than 200 characters'
        : 'it holds other than letters, digits and . _ @ -';
  return `${shown} is not ${what}: ${why}`;
}

/** The job that added this one with `ctx.enqueue`. */
export const parentRef = z.strictObject({ kind: z.string().min(1).max(40), jobId: z.string().min(1).max(1000) });
export type ParentRef = z.infer<typeof parentRef>;

const common = {
  /** When the job was due: its tick's time, or when it was added (epoch ms). */
  scheduledFor: z.number().int().nonnegative(),
  /** Id of the tick job, or `manual` for a job added by `trigger`; absent for jobs added by other jobs. */
  tick: z.string().min(1).max(300).optional(),
  parent: parentRef.optional(),
  /** Links of the chain that led to this job: 1 for a child of a job no other job added, and so on; absent: 0. */
  depth: z.number().int().min(1).max(MAX_CHAIN_DEPTH).optional(),
  /** The subject schedule whose occurrence (at scheduledFor) this job is. */
  schedule: z
    .string()
    .regex(/^[0-9a-z]{1,12}$/)
    .optional(),
  /** Which definition of the schedule the run was made from (a digest): a replaced schedule's runs do not run. */
  sv: z
    .string()
    .regex(/^[0-9a-f]{10}$/)
    .optional(),
};

/**
 * Job data by scope; a user job's owner is its user, an item or global job may name one (`owner`,
 * owner.ts). Ids only: the worker looks up tokens itself, so a leaked Redis dump holds no
 * credentials. Validated again on the worker side, because anything may have written to Redis.
 */
export const JOB_DATA = {
  user: z.strictObject({ userId: subjectId, ...common }),
  global: z.strictObject({ ...common, owner: subjectId.optional() }),
  item: z.strictObject({ id: subjectId, data: z.unknown(), ...common, owner: subjectId.optional() }),
} as const satisfies Record<Scope, z.ZodType>;

/**
 * What a worker checks a kind's job data against: its scope's shape and, for an item kind with a
 * schema, that schema too (a job written past addJob, by the board's "add job", was never checked).
 */
export function jobDataSchema(kind: KindConfig): z.ZodType<JobData> {
  const check = kind.checkData;
  if (!check) return JOB_DATA[kind.scope];
  return JOB_DATA.item.superRefine((d, ctx) => {
    const problem = check(d.data);
    if (problem) ctx.addIssue({ code: 'custom', path: ['data'], message: `does not match the schema: ${problem}` });
  });
}

export type UserJobData = z.infer<(typeof JOB_DATA)['user']>;
export type GlobalJobData = z.infer<(typeof JOB_DATA)['global']>;
export type ItemJobData = z.infer<(typeof JOB_DATA)['item']>;
export type JobData = UserJobData | GlobalJobData | ItemJobData;

/** A schedule tick: the producer that takes it fans it out (user kinds) or adds the one job (global). */
export interface TickJobData {
  schedule: string;
  /** Set for ticks added by `trigger` or the API rather than by the scheduler. */
  manual?: boolean;
}

/** A job's result is stored with it in Redis; in every handler mode it is JSON of at most this size. */
export const MAX_RESULT_BYTES = 16 * 1024;

/** What a dead letter keeps: enough to replay exactly and to understand without digging. */
export interface DeadLetterData {
  sourceQueue: string;
  sourceJobId: string;
  name: string;
  data: unknown;
  /** The job that added the failed one, when another job did. */
  parent?: ParentRef;
  /** Whose job it was (owner.ts), when it had an owner. */
  owner?: string;
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

/** Job names, by scope, so Bull Board rows read well. */
export const JOB_NAMES = {
  user: 'user',
  global: 'run',
  item: 'item',
  tick: 'tick',
  deadLetter: 'dead-letter',
} as const;

/*
 * Job ids. BullMQ refuses custom ids containing ':' (its own key separator), so ids are joined with
 * '__', which neither tick tokens nor kind names contain: the first '__' always marks the boundary.
 * A waiting job holds its id four times in Redis (its key, the wait list, its options and its
 * coalescing key), so the per-tick part is short: a scheduler's tick `repeat:<kind>:<ms>` becomes
 * its due time in base 36, a manual tick `manual_<kind>_<ms>` becomes `m.` and the same. The kind
 * is left out, as every kind has a queue of its own; tickOf gives the tick id back.
 */

const SCHEDULER_TICK = /^repeat:[^:]+:(\d{1,15})$/;
const MANUAL_TICK = /^manual_[a-z][a-z0-9-]*_(\d{1,15})$/;

/** The part of a job id that names its tick: `lq9s4g00`, `m.lq9s4g00`, or `_<id>` for any other tick id. */
export function tickToken(tickId: string): string {
  const scheduled = SCHEDULER_TICK.exec(tickId);
  if (scheduled) return Number(scheduled[1]).toString(36);
  const manual = MANUAL_TICK.exec(tickId);
  if (manual) return `m.${Number(manual[1]).toString(36)}`;
  return `_${tickId.replaceAll(':', '_')}`;
}

/**
 * The tick a kind's job was added for: the tick in its data (manual and global jobs), else the tick
 * in its id (fan-out jobs, and their replays). Undefined for jobs other jobs added, whose ids start
 * with a kind's name instead.
 */
export function tickOf(kind: string, jobId: string, data: { tick?: string; parent?: ParentRef }): string | undefined {
  if (data.tick) return data.tick;
  if (data.parent) return undefined;
  const cut = jobId.indexOf('__');
  const token = cut > 0 ? jobId.slice(0, cut) : '';
  if (/^[0-9a-z]{1,11}$/.test(token)) return `repeat:${kind}:${Number.parseInt(token, 36)}`;
  if (/^m\.[0-9a-z]{1,11}$/.test(token)) return manualTickId(kind, Number.parseInt(token.slice(2), 36));
  return undefined;
}

/** The deterministic id of a user's job within one tick: adding it twice adds it once. */
export function userJobId(tickId: string, userId: string): string {
  return `${tickToken(tickId)}__${userId}`;
}

/** The one job of a global kind's tick. */
export function globalJobId(tickId: string): string {
  return `${tickToken(tickId)}__run`;
}

/** Id of a tick added by hand (`trigger`, the API), unique per kind and millisecond. */
export function manualTickId(kind: string, now: number): string {
  return `manual_${kind}_${now}`;
}

/** A dead letter's id is derived from its source job, so the same failure is recorded once. */
export function deadLetterId(queue: string, jobId: string): string {
  return `${queue}__${jobId}`;
}

/** Id of a dead letter's job once replayed on its source queue; deterministic, so a replay redone after a crash adds it once. */
export function replayJobId(sourceJobId: string): string {
  return `${sourceJobId}__replay`;
}
