/**
 * The job of one occurrence of a subject schedule: its id is the schedule's and the run's, so a
 * producer that adds it again (after a crash, or racing another) adds nothing twice while it exists.
 */
import type { JobsOptions } from 'bullmq';
import type { KindConfig } from '../../config/kind-config.js';
import { jobNameOf } from '../../jobs/add-job.js';
import { jobOptions } from '../../jobs/queues.js';
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
