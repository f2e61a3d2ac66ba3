/**
 * A job of a subject schedule's run starts: one script says whether its handler runs (see
 * sched-start.lua): not for a second job of a run that started already, nor for a schedule removed,
 * paused or replaced since the job was made. The run leaves pending first, so the materialiser's
 * recovery never adds a run that has started. Checked before the job's data is, so a run whose data
 * no longer passes leaves pending too (and is dead-lettered as invalid).
 */
import type { Job } from 'bullmq';
import { scripted } from '../redis/commands.js';
import { scheduleBaseKey } from '../redis/keys.js';
import type { RunHandlerDeps } from './run-deps.js';

/** How long a started run is remembered, so a late second job of it is known for a duplicate. */
export const STARTED_KEPT_MS = 60 * 60 * 1000;

export type RunVerdict = 'run' | 'duplicate' | 'removed' | 'paused' | 'replaced';

/** The raw job data of a subject schedule's run, before validation; undefined for any other job. */
export function runOf(job: Job): { schedule: string; at: number; version: string } | undefined {
  const d = job.data as { schedule?: unknown; scheduledFor?: unknown; sv?: unknown } | null;
  if (typeof d?.schedule !== 'string' || typeof d.scheduledFor !== 'number') return undefined;
  return { schedule: d.schedule, at: d.scheduledFor, version: typeof d.sv === 'string' ? d.sv : '' };
}

export async function occurrenceStarted(
  deps: RunHandlerDeps,
  job: Job,
  run: NonNullable<ReturnType<typeof runOf>>,
  started: number,
  attempt: number,
): Promise<RunVerdict> {
  const verdict = (await scripted(deps.queues.conn).sjSchedStart(
    scheduleBaseKey(deps.queues.prefix),
    run.schedule,
    String(run.at),
    run.version,
    String(job.timestamp),
    String(started),
    String(STARTED_KEPT_MS),
  )) as RunVerdict;
  if (verdict === 'run' && attempt === 1) deps.observeScheduleLag?.(deps.kind.name, 'started', Math.max(0, started - run.at) / 1000);
  if (verdict !== 'run') {
    deps.log.info(
      { queue: deps.kind.queue, jobId: String(job.id), schedule: run.schedule, verdict },
      `subject schedule run not run: ${verdict}`,
    );
  }
  return verdict;
}
