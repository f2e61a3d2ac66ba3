/** The state an operator asks about, read from Redis; shared by `status`, the API and the status page. */
import type { Config } from '../config.js';
import type { Scope } from '../jobs/catalog.js';
import type { Queues } from '../jobs/queues.js';
import { allQueues, kindsOf } from '../jobs/registry.js';
import { lastTick, type TickResult } from '../schedules/tick-record.js';

export const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface ScheduleStatus {
  /** The kind's name. */
  name: string;
  scope: Scope;
  queue: string;
  /** False also for kinds without a schedule. */
  enabled: boolean;
  /** The schedule as written, or `-` for a kind that runs only when added. */
  interval: string;
  /** Present when a scheduler exists in Redis. */
  nextRun: number | null;
  lastRun: TickResult | null;
}

export interface Status {
  /** One row per kind of the catalog, scheduled or not. */
  schedules: ScheduleStatus[];
  queues: Record<string, Record<JobState, number>>;
}

export async function readStatus(queues: Queues, config: Config): Promise<Status> {
  const schedulers = new Map((await queues.schedules().getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const schedules = await Promise.all(
    kindsOf(config).map(
      async (k): Promise<ScheduleStatus> => ({
        name: k.name,
        scope: k.scope,
        queue: k.queue,
        enabled: k.schedule?.enabled ?? false,
        interval: k.schedule?.intervalText ?? '-',
        nextRun: schedulers.get(k.name)?.next ?? null,
        lastRun: (await lastTick(queues.conn, config.prefix, k.name)) ?? null,
      }),
    ),
  );
  const names = allQueues(config);
  const counts = await Promise.all(names.map((q) => queues.get(q).getJobCounts(...JOB_STATES)));
  const byQueue = Object.fromEntries(
    names.map((q, i) => [q, Object.fromEntries(JOB_STATES.map((s) => [s, counts[i]?.[s] ?? 0]))]),
  ) as Status['queues'];
  return { schedules, queues: byQueue };
}
