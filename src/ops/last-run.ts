/**
 * What a kind's last run came to, for `status`, the status page, the API and the metrics alike. A
 * user kind's tick is its run: it fanned out (or failed to), and its jobs end one by one, counted per
 * tick by the workers. A global kind's tick only adds one job, so its run is that job: running,
 * completed, retrying or dead-lettered, with the reason; a tick's "ok" says nothing about it.
 */
import type { Scope } from '../config/catalog.js';
import type { Queues } from '../jobs/queues.js';
import { globalJobId, replayJobId } from '../jobs/registry.js';
import { readTickJobs, type TickJobs } from '../schedules/tick-jobs.js';
import type { TickResult } from '../schedules/tick-record.js';

/**
 * User kinds: the tick's result (`ok`, `failed`, `superseded`). Global kinds: the job's (`running`,
 * `completed`, `retrying`, `dead_lettered`), `failed` when the tick could not add it, `unknown` when
 * the job and its record are both gone (retention).
 */
export type RunState = 'ok' | 'failed' | 'superseded' | 'running' | 'completed' | 'retrying' | 'dead_lettered' | 'unknown';

export interface RunOutcome {
  state: RunState;
  /** Why it failed: the tick's error, or the global job's last failure. */
  reason?: string;
  /** Global kinds: attempts made so far, and allowed. */
  attempt?: number;
  attempts?: number;
  /** How the tick's jobs ended so far (a global kind's tick has one). */
  jobs: TickJobs;
}

const NONE: TickJobs = { completed: 0, retrying: 0, deadLettered: 0 };

/** 1 for a run that went well, 0 for one that failed for good, undefined while it is still going. */
export function runSucceeded(state: RunState): 0 | 1 | undefined {
  if (state === 'ok' || state === 'superseded' || state === 'completed') return 1;
  if (state === 'failed' || state === 'dead_lettered') return 0;
  return undefined;
}

export async function runOutcome(
  queues: Queues,
  kind: { name: string; scope: Scope; queue: string },
  tick: TickResult,
): Promise<RunOutcome> {
  const rec = await readTickJobs(queues.conn, queues.prefix, kind.name, tick.tickId);
  const jobs = rec?.jobs ?? { ...NONE };
  if (kind.scope !== 'global' || tick.result === 'failed') {
    return { state: tick.result as RunState, ...(tick.error ? { reason: tick.error } : {}), jobs };
  }
  if (rec?.run) {
    const { state, attempt, attempts, reason } = rec.run;
    return { state, attempt, attempts, ...(reason ? { reason } : {}), jobs };
  }
  return { ...(await fromJob(queues, kind.queue, tick.tickId)), jobs };
}

/** No settled attempt recorded (not settled yet, or replayed since): the job itself says. */
async function fromJob(queues: Queues, queue: string, tickId: string): Promise<Omit<RunOutcome, 'jobs'>> {
  const id = globalJobId(tickId);
  const q = queues.get(queue);
  const job = (await q.getJob(replayJobId(id))) ?? (await q.getJob(id));
  if (!job) return { state: 'unknown' };
  const state = await job.getState();
  const attempts = { attempt: job.attemptsMade, attempts: job.opts.attempts ?? 1 };
  if (state === 'completed') return { state: 'completed', ...attempts };
  if (state === 'failed') return { state: 'dead_lettered', ...attempts, ...(job.failedReason ? { reason: job.failedReason } : {}) };
  if (job.attemptsMade > 0) return { state: 'retrying', ...attempts, ...(job.failedReason ? { reason: job.failedReason } : {}) };
  return state === 'unknown' ? { state: 'unknown' } : { state: 'running', ...attempts };
}

/** The outcome in an operator's words, one line. */
export function describeRun(o: RunOutcome, scope: Scope): string {
  const why = o.reason ? `: ${o.reason.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  const of = o.attempts ? ` ${o.attempt} of ${o.attempts}` : '';
  switch (o.state) {
    case 'completed':
      return `completed (attempt${of})`;
    case 'retrying':
      return `retrying (attempt${of} failed${why})`;
    case 'dead_lettered':
      return `dead-lettered after attempt${of}${why}`;
    case 'running':
      return o.attempt ? `running (attempt${of})` : 'running';
    case 'unknown':
      return 'unknown (its job is gone)';
    default:
      return scope === 'global' ? `${o.state}${why}` : `${o.state}${why}; ${jobsText(o)}`;
  }
}

/** How the tick's jobs ended so far. */
export function jobsText(o: RunOutcome): string {
  return `jobs completed=${o.jobs.completed} retrying=${o.jobs.retrying} dead-lettered=${o.jobs.deadLettered}`;
}
