/** The state an operator asks about, read from Redis; shared by `status`, the API and the status page. */

import type { Queue } from 'bullmq';
import type { Scope } from '../config/catalog.js';
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import { type KindBacklog, kindBacklog, withBacklog } from '../jobs/fair-backlog.js';
import type { Queues } from '../jobs/queues.js';
import { DEAD_LETTER_QUEUE, SCHEDULE_QUEUE } from '../jobs/registry.js';
import { catalogOf, readCatalog } from '../schedules/catalog-record.js';
import { pausedSchedules } from '../schedules/pause.js';
import { lastTick, type TickResult } from '../schedules/tick-record.js';
import { JOB_STATES, type JobState } from './job-states.js';
import { type RunOutcome, runOutcome } from './last-run.js';
import { type OrphanQueue, orphanQueues } from './orphans.js';

export interface ScheduleStatus {
  /** The kind's name. */
  name: string;
  /** What a person calls the kind, when its catalog gives a title. */
  title?: string;
  scope: Scope;
  queue: string;
  /** False also for kinds without a schedule. */
  enabled: boolean;
  /** The schedule as written, or `-` for a kind that runs only when added. */
  interval: string;
  /** Paused by an operator (`spotter-jobs pause`): its ticks are skipped until resumed. */
  paused: boolean;
  /** Present when a scheduler exists in Redis. */
  nextRun: number | null;
  lastRun: TickResult | null;
  /** What the last run came to: for a global kind its job's state, for a user kind its tick's and how its jobs ended so far. */
  outcome: RunOutcome | null;
}

export interface Status {
  /** One row per kind of the catalog the producers run, scheduled or not. */
  schedules: ScheduleStatus[];
  queues: Record<string, Record<JobState, number>>;
  /**
   * Where the kinds come from: `redis` (recorded by a producer, the truth) or `local` (no producer has
   * recorded its catalog yet, so this process's own configuration is shown).
   */
  catalog: 'redis' | 'local';
  /** Queues in Redis of kinds no longer in the catalog: no kind consumes them (`spotter-jobs forget` removes one). */
  orphans: OrphanQueue[];
  /** Per fair kind: jobs waiting for admission, owners with work, the largest owner's backlog (docs/fair-share.md). */
  backlog: KindBacklog[];
}

type Scheduler = Awaited<ReturnType<Queue['getJobSchedulers']>>[number];

/**
 * What a scheduler in Redis actually does, in the operator's words: the recorded schedule when it
 * ends with what the scheduler runs ("every day at 08:00 (0 8 * * *)"), else the scheduler's own.
 */
function describe(s: Scheduler, recorded: string): string {
  const runs = s.pattern ? s.pattern : formatDuration(Number(s.every));
  return recorded.endsWith(` (${runs})`) ? recorded : runs;
}

/**
 * Reads everything from Redis: the kinds from the catalog the producers recorded, each schedule's
 * interval and next run from its scheduler (so an edit made elsewhere shows as it is), the last run
 * from the tick record and the counts of its jobs (global kinds: its job). Never the caller's
 * environment, unless no producer has run yet.
 */
export async function readStatus(queues: Queues, config: Config): Promise<Status> {
  const [list, recorded, paused] = await Promise.all([
    queues.schedules().getJobSchedulers(0, -1),
    readCatalog(queues.conn, config.prefix),
    pausedSchedules(queues.conn, config.prefix),
  ]);
  const schedulers = new Map(list.map((s) => [s.key, s]));
  const kinds = recorded?.kinds ?? catalogOf(config);
  const schedules = await Promise.all(
    kinds.map(async (k): Promise<ScheduleStatus> => {
      const s = schedulers.get(k.name);
      const last = (await lastTick(queues.conn, config.prefix, k.name)) ?? null;
      return {
        name: k.name,
        ...(k.title ? { title: k.title } : {}),
        scope: k.scope,
        queue: k.queue,
        // A scheduler in Redis is what runs; a configured but disabled schedule has none. Before any
        // producer recorded its catalog there is none either: the local configuration says.
        enabled: recorded ? s !== undefined : k.enabled,
        interval: s ? describe(s, k.interval) : k.interval,
        paused: paused.has(k.name),
        nextRun: s?.next ?? null,
        lastRun: last,
        outcome: last ? await runOutcome(queues, k, last) : null,
      };
    }),
  );
  const names = [...new Set([...kinds.map((k) => k.queue), SCHEDULE_QUEUE, DEAD_LETTER_QUEUE])];
  const counts = await Promise.all(names.map((q) => queues.get(q).getJobCounts(...JOB_STATES)));
  const byQueue = Object.fromEntries(
    names.map((q, i) => [q, Object.fromEntries(JOB_STATES.map((st) => [st, counts[i]?.[st] ?? 0]))]),
  ) as Status['queues'];
  const orphans = await orphanQueues(
    queues,
    kinds.map((k) => k.queue),
  );
  const fair = await withBacklog(queues.conn, config.prefix, kinds, (k) => Boolean(k.settings?.fair));
  const backlog = await Promise.all(fair.map((k) => kindBacklog(queues.conn, config.prefix, k, 1)));
  return { schedules, queues: byQueue, catalog: recorded ? 'redis' : 'local', orphans, backlog };
}
