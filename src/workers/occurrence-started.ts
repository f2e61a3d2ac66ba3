/**
 * A subject schedule's occurrence starts: it leaves the pending set before its handler runs, so the
 * materialiser's recovery, which adds again only occurrences still pending whose job is gone, never
 * adds one that has run (its job may be removed by retention right after).
 */
import { schedulePendingKey } from '../redis/keys.js';
import type { RunHandlerDeps } from './run-deps.js';

export async function occurrenceStarted(
  deps: RunHandlerDeps,
  schedule: string,
  at: number,
  started: number,
  attempt: number,
): Promise<void> {
  await deps.queues.conn.zrem(schedulePendingKey(deps.queues.prefix), `${schedule}:${at}`);
  if (attempt === 1) deps.observeScheduleLag?.(deps.kind.name, 'started', Math.max(0, started - at) / 1000);
}
