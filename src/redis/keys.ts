/**
 * Every Redis key the service builds, in one place. The strings are the data layout of a deployed
 * Redis: a key spelled differently is a key the running service no longer finds, so each builder
 * keeps its string exactly. docs/redis-layout.md gives each key's type, writers, readers and
 * lifetime (a test holds that table and this file to each other).
 *
 * BullMQ's keys live under `<prefix>:<queue>:`; the service's own under `<prefix>:spotter-jobs:`,
 * which no queue can shadow, as queue names hold no ':'.
 */

/** The service's own keys under a prefix. */
function own(prefix: string): string {
  return `${prefix}:spotter-jobs`;
}

/** One of BullMQ's keys of a queue: `meta`, `wait`, `active`, `failed`…, or a job's hash (the suffix is its id). */
export function queueKey(prefix: string, queue: string, suffix: string): string {
  return `${prefix}:${queue}:${suffix}`;
}

/** A prefix as the start of a SCAN pattern: its glob characters escaped. */
function globSafe(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** SCAN pattern of every queue's `meta` hash under a prefix. */
export function queueMetaPattern(prefix: string): string {
  return queueKey(globSafe(prefix), '*', 'meta');
}

/** SCAN pattern of every key under a prefix, for counting them. */
export function prefixPattern(prefix: string): string {
  return `${prefix}:*`;
}

/** Not a key: the CLIENT SETNAME BullMQ gives a worker's connection, by which workers are counted. */
export function workerClientName(prefix: string, queue: string): string {
  return `${prefix}:${Buffer.from(queue).toString('base64')}`;
}

/** The catalog the producer last recorded (JSON), for `status` and the CLI. */
export function catalogKey(prefix: string): string {
  return `${own(prefix)}:catalog`;
}

/** Every work queue producers have known under the prefix (a set). */
export function knownQueuesKey(prefix: string): string {
  return `${own(prefix)}:queues`;
}

/** Paused schedules by kind (a hash). */
export function pausedKey(prefix: string): string {
  return `${own(prefix)}:paused`;
}

/** The lock one producer holds while it reconciles the job schedulers with the catalog. */
export function reconcileLockKey(prefix: string): string {
  return `${own(prefix)}:reconcile-lock`;
}

/** The last millisecond given to a manual tick, by kind (a hash), so two triggers never share an id. */
export function manualClockKey(prefix: string): string {
  return `${own(prefix)}:manual-clock`;
}

/** A schedule's last tick result (`last`, a string) or its recent results (`history`, a list). */
export function tickKey(prefix: string, schedule: string, what: 'last' | 'history'): string {
  return `${own(prefix)}:tick:${schedule}:${what}`;
}

/** The counts of the jobs one tick added (a hash); `token` is the tick's part of a job id (tickToken). */
export function tickJobsKey(prefix: string, schedule: string, token: string): string {
  return `${own(prefix)}:tick:${schedule}:jobs:${token}`;
}

/** Where one tick's fan-out stands (JSON), so another producer resumes it. */
export function fanoutCursorKey(prefix: string, tickId: string): string {
  return `${own(prefix)}:fanout:${tickId}`;
}

/** Which tick of a schedule is fanning out now (a hash), so an older one stops. */
export function fanoutScheduleKey(prefix: string, schedule: string): string {
  return `${own(prefix)}:fanout-schedule:${schedule}`;
}

/**
 * The hash holding the last runs (`runs`) or the latest dead letters (`dead`) of one kind, for the
 * users of one shard whose record was written in one period (a period is as long as the retention).
 */
export function historyKey(prefix: string, what: 'runs' | 'dead', kind: string, shard: number, period: number): string {
  return `${own(prefix)}:history:${what}:${kind}:${shard}:${period}`;
}

/** SCAN pattern of every history hash of a kind, of both types and every shard and period. */
export function historyPattern(prefix: string, kind: string): string {
  return `${own(globSafe(prefix))}:history:*:${kind}:*`;
}

/** The key a run holds for its user in an exclusivity group. */
export function exclusiveUserKey(prefix: string, group: string, userId: string): string {
  return `${own(prefix)}:exclusive:${group}:${userId}`;
}

/** The processes whose kind holds an exclusivity group's lane (a sorted set of leases). */
export function exclusiveLaneKey(prefix: string, group: string): string {
  return `${own(prefix)}:exclusive:${group}:lane`;
}

/** The processes that run jobs of an exclusivity group (a sorted set of leases). */
export function exclusiveActiveKey(prefix: string, group: string): string {
  return `${own(prefix)}:exclusive:${group}:active`;
}

/**
 * The subject schedules' home: the scripts get this key and build the others below from it, as a
 * bucket's keys depend on the schedule id they read (all under the prefix, so one Cluster slot when
 * the prefix is hash-tagged).
 */
export function scheduleBaseKey(prefix: string): string {
  return `${own(prefix)}:sched`;
}

/** The last subject schedule id handed out (a counter; ids are it in base 36). */
export function scheduleSeqKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:seq`;
}

/** Buckets of schedules by the earliest next run among their active ones (a sorted set). */
export function scheduleBucketsKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:buckets`;
}

/** The definitions of one bucket of 128 schedule ids (a hash small enough for Redis' dense encoding). */
export function scheduleDefKey(prefix: string, bucket: string): string {
  return `${scheduleBaseKey(prefix)}:def:${bucket}`;
}

/** The next runs of one bucket's active schedules (a sorted set small enough for the dense encoding). */
export function scheduleDueKey(prefix: string, bucket: string): string {
  return `${scheduleBaseKey(prefix)}:due:${bucket}`;
}

/** One bucket's definitions too long for its dense hash (a hash). */
export function scheduleBigKey(prefix: string, bucket: string): string {
  return `${scheduleBaseKey(prefix)}:big:${bucket}`;
}

/** A bucket's counts asked for, of counted schedules a run spent one of (written by the scripts: sched-prelude.lua). */
export function scheduleAskedKey(prefix: string, bucket: string): string {
  return `${scheduleBaseKey(prefix)}:asked:${bucket}`;
}

/** Schedules set aside, by the time they were due, because a producer did not know their kind or trigger (a sorted set). */
export function scheduleParkedKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:parked`;
}

/** Runs whose job started, by that job's creation time, kept an hour: a later job of the same run is a duplicate (a sorted set). */
export function scheduleStartedKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:started`;
}

/** Triggers and zones shared by many schedules, by a digest of their text (a hash). */
export function scheduleRulesKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:rules`;
}

/** One shard of the index from `<kind>:<subject>` to its schedule ids (a hash). */
export function scheduleSubjectKey(prefix: string, shard: string): string {
  return `${scheduleBaseKey(prefix)}:subject:${shard}`;
}

/** Occurrences added as jobs whose run has not started (a sorted set, by when they were added). */
export function schedulePendingKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:pending`;
}

/** Subject schedules per kind (a hash of counts). */
export function scheduleCountsKey(prefix: string): string {
  return `${scheduleBaseKey(prefix)}:counts`;
}

/**
 * One of a fair kind's admission structures (docs/fair-share.md), by `part`: `specs` (hash job id →
 * spec), `owners` and `parked` (sorted sets owner → virtual start), `sizes` (sorted set owner →
 * backlog length), `clock` (string), `admitting` (sorted set job id → time), `held` (sorted set
 * `<owner> <jobId>` → lease end), `holds` (hash owner → count), `cap` (string, the owner cap last
 * applied), `finish` (sorted set owner → virtual finish of its last admitted job) and `later`
 * (sorted set `<owner> <jobId>` → due time, jobs added with a delay).
 */
export function fairKey(prefix: string, kind: string, part: string): string {
  return `${own(prefix)}:fair:${kind}:${part}`;
}

/** One owner's backlog of a fair kind: the ids of its jobs not yet admitted, oldest first (a list). */
export function fairBacklogKey(prefix: string, kind: string, owner: string): string {
  return `${own(prefix)}:fair:${kind}:backlog:${owner}`;
}

/** Owners' weights in fair admission (a hash owner → weight), shared by every fair kind. */
export function ownerWeightsKey(prefix: string): string {
  return `${own(prefix)}:owner-weights`;
}
