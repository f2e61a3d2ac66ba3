/** The state an operator asks about, read from Redis; shared by `status`, the API and the status page. */
import type { Config } from '../config.js';
import type { Queues } from '../jobs/queues.js';
import { ALL_QUEUES, type QueueName, SCHEDULE_NAMES, type ScheduleName } from '../jobs/registry.js';
import { scheduleDefinitions } from '../schedules/definitions.js';
import { lastTick, type TickResult } from '../schedules/tick-record.js';

export const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface ScheduleStatus {
  name: ScheduleName;
  queue: string;
  enabled: boolean;
  interval: string;
  /** Present when a scheduler exists in Redis. */
  nextRun: number | null;
  lastRun: TickResult | null;
}

export interface Status {
  schedules: ScheduleStatus[];
  queues: Record<QueueName, Record<JobState, number>>;
}

export async function readStatus(queues: Queues, config: Config): Promise<Status> {
  const defs = scheduleDefinitions(config);
  const schedulers = new Map((await queues.schedules().getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const schedules = await Promise.all(
    SCHEDULE_NAMES.map(async (name): Promise<ScheduleStatus> => {
      const d = defs.find((x) => x.name === name);
      return {
        name,
        queue: d?.queue ?? '',
        enabled: d?.enabled ?? false,
        interval: d?.intervalText ?? '',
        nextRun: schedulers.get(name)?.next ?? null,
        lastRun: (await lastTick(queues.conn, config.prefix, name)) ?? null,
      };
    }),
  );
  const counts = await Promise.all(ALL_QUEUES.map((q) => queues.get(q).getJobCounts(...JOB_STATES)));
  const byQueue = Object.fromEntries(
    ALL_QUEUES.map((q, i) => [q, Object.fromEntries(JOB_STATES.map((s) => [s, counts[i]?.[s] ?? 0]))]),
  ) as Status['queues'];
  return { schedules, queues: byQueue };
}
