/**
 * A job's way into its kind's exclusivity group and out of it: it waits (no attempt used) while
 * another job of the group runs for its user, and keeps its hold until its handler has really
 * returned.
 */
import { DelayedError, type Job } from 'bullmq';
import type { activeSpan } from '../telemetry/tracing.js';
import type { Exclusivity } from './exclusivity.js';
import { scopeOf } from './fail-attempt.js';
import { Hold } from './hold.js';
import type { RunHandlerDeps } from './run-deps.js';

/** How long a job waits before it looks again at a user its group is busy with. */
const EXCLUSIVE_RETRY_MS = 250;

type Span = ReturnType<typeof activeSpan>;

/**
 * The job's hold on its user in `group`. In the group's lane (the kind alone in it) this answers
 * synchronously, with no Redis call per job. When the user is busy, the job is moved back to
 * delayed and this throws BullMQ's DelayedError.
 */
export function enterGroup(
  deps: RunHandlerDeps,
  job: Job,
  group: string,
  userId: string,
  token: string | undefined,
  span: Span,
): Hold | Promise<Hold> {
  const entered = (deps.exclusivity as Exclusivity).enter(group, deps.kind.name, userId, String(job.id));
  if (entered instanceof Hold && !entered.check()) return entered;
  return admitted(deps, job, group, entered, token, span);
}

async function admitted(
  deps: RunHandlerDeps,
  job: Job,
  group: string,
  entered: Hold | Promise<Hold | undefined>,
  token: string | undefined,
  span: Span,
): Promise<Hold> {
  const hold = await entered;
  // Checked before the attempt too: a hold whose lease may have lapsed already is none.
  if (hold && !hold.check()) return hold;
  hold?.release().catch(() => {});
  const { kind, log } = deps;
  if (log.isLevelEnabled('debug'))
    log.debug({ ...scopeOf(kind, job, job.attemptsMade + 1), group }, 'user busy in its exclusivity group; waiting');
  span?.setAttributes({ 'spotter.outcome': 'waiting', 'spotter.exclusive': group });
  await job.moveToDelayed(Date.now() + EXCLUSIVE_RETRY_MS + Math.floor(Math.random() * EXCLUSIVE_RETRY_MS), token);
  throw new DelayedError();
}

/**
 * Frees the hold once the handler has really returned, past its timeout too (the hold is renewed
 * meanwhile), so no other job of the group runs for the user while this one still works. Not
 * awaited: sent on the same connection ahead of BullMQ's own completion; a lost key lapses.
 */
export function releaseWhenReturned(deps: RunHandlerDeps, job: Job, attempt: number, hold: Hold, pending: Promise<unknown>): void {
  const free = () =>
    hold
      .release()
      .catch((err: Error) =>
        deps.log.warn({ ...scopeOf(deps.kind, job, attempt), err: err.message }, 'could not release the exclusivity key; it lapses'),
      );
  pending.then(free, free);
}
