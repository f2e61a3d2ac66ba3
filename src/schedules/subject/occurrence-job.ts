/**
 * The job of one occurrence of a subject schedule: its id is the schedule's and the run's, so a
 * producer that adds it again (after a crash, or racing another) adds nothing twice while it exists.
 */
import type { JobsOptions } from 'bullmq';
import type { KindConfig } from '../../config/kind-config.js';
import { jobNameOf } from '../../jobs/add-job.js';
import { fairOf } from '../../jobs/fair-admission.js';
import { jobOptions, type Queues } from '../../jobs/queues.js';
import type { JobData } from '../../jobs/registry.js';
import type { ScheduleDef } from './codec.js';

export function occurrenceJobId(id: string, at: number): string {
  return `sched__${id}__${at}`;
}

/** The job to add for the run at `at` of schedule `id` (made from definition `version`), due after `delayMs`. */
export function occurrenceJob(
  kind: KindConfig,
  id: string,
  def: ScheduleDef,
  at: number,
  delayMs: number,
  version: string,
): { name: string; data: JobData; opts: JobsOptions } {
  const base = { scheduledFor: at, schedule: id, sv: version };
  const data: JobData =
    def.scope === 'user'
      ? { userId: def.subject, ...base }
      : { id: def.subject, data: def.data === undefined ? null : (JSON.parse(def.data) as unknown), ...base };
  return {
    name: jobNameOf(kind),
    data,
    opts: { ...jobOptions(kind), jobId: occurrenceJobId(id, at), ...(delayMs > 0 ? { delay: Math.round(delayMs) } : {}) },
  };
}

type OccurrenceJob = ReturnType<typeof occurrenceJob>;

/**
 * Adds runs' jobs of one kind: to its queue, or for a fair kind to their owners' backlogs (when due),
 * so a schedule's runs pass fair admission like every other job of the kind.
 */
export async function addOccurrences(queues: Queues, kind: KindConfig, jobs: readonly OccurrenceJob[]): Promise<void> {
  if (!kind.fair) {
    await queues.get(kind.queue).addBulk([...jobs]);
    return;
  }
  const fair = fairOf(queues);
  await Promise.all(jobs.map((j) => fair.add(kind, String(j.opts.jobId), j.data, false, j.opts.delay ?? 0)));
}
