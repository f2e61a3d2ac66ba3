/** Runs a schedule now (a manual tick the producers fan out) or one user's job now or at a time. */
import type { Config } from '../config.js';
import { PermanentError } from '../jobs/errors.js';
import type { Queues } from '../jobs/queues.js';
import { tickJobOptions, userJobOptions } from '../jobs/queues.js';
import {
  JOB_NAMES,
  manualTickId,
  SCHEDULES,
  type ScheduleName,
  type TickJobData,
  type UserJobData,
  userJobData,
  userJobId,
} from '../jobs/registry.js';

export interface Triggered {
  queue: string;
  jobId: string;
  runAt: string;
  kind: 'tick' | 'user';
}

export async function trigger(
  queues: Queues,
  config: Config,
  schedule: ScheduleName,
  opts: { userId?: string; at?: Date } = {},
): Promise<Triggered> {
  const now = Date.now();
  const runAt = opts.at ? opts.at.getTime() : now;
  const delay = Math.max(0, runAt - now);
  const tickId = manualTickId(schedule, now);
  if (opts.userId !== undefined) {
    if (!userJobData.shape.userId.safeParse(opts.userId).success) {
      throw new PermanentError(`invalid user id ${JSON.stringify(opts.userId)}: letters, digits and . _ @ - only`);
    }
    const queue = SCHEDULES[schedule].queue;
    const data: UserJobData = { userId: opts.userId, scheduledFor: runAt, tick: tickId };
    const job = await queues.get(queue).add(JOB_NAMES.user, data, {
      ...userJobOptions(config, queue),
      jobId: userJobId(tickId, opts.userId),
      delay,
    });
    return { queue, jobId: String(job.id), runAt: new Date(runAt).toISOString(), kind: 'user' };
  }
  const data: TickJobData = { schedule, manual: true };
  const job = await queues.schedules().add(JOB_NAMES.tick, data, { ...tickJobOptions(config), jobId: tickId, delay });
  return { queue: queues.schedules().name, jobId: String(job.id), runAt: new Date(runAt).toISOString(), kind: 'tick' };
}
