/**
 * Runs a producer already took: their jobs are made (pending until they start), and their count is
 * spent. A schedule resumed inside the execution window goes on after them, so no run is taken twice
 * (a second take would add no job, its id being the same, and spend the count again).
 */
import type { RedisClient } from '../../redis/connection.js';
import { schedulePendingKey } from '../../redis/keys.js';
import type { ScheduleDef } from './codec.js';
import { triggerOf } from './occurrence.js';

/** Runs looked up at most: a window of one-second runs for almost three hours. */
export const TAKEN_LOOKED_AT = 10_000;
/** Runs asked about in one command. */
const PAGE = 500;

/** The runs of schedule `id` after `now` and up to `horizon` (the execution window's end) pending now. */
export async function takenRuns(
  conn: RedisClient,
  prefix: string,
  id: string,
  def: ScheduleDef,
  span: { now: number; horizon: number },
): Promise<Set<number>> {
  const trigger = triggerOf(def);
  const times: number[] = [];
  for (let t = trigger.next(span.now); t !== undefined && t <= span.horizon && times.length < TAKEN_LOOKED_AT; t = trigger.next(t)) {
    times.push(t);
  }
  const taken = new Set<number>();
  for (let i = 0; i < times.length; i += PAGE) {
    const page = times.slice(i, i + PAGE);
    const scores = await conn.zmscore(schedulePendingKey(prefix), ...page.map((t) => `${id}:${t}`));
    page.forEach((t, k) => {
      if (scores[k] !== null) taken.add(t);
    });
  }
  return taken;
}

/** The first run after `now` not among `taken`, within the definition's runs left and until. */
export function nextUntaken(def: ScheduleDef, now: number, taken: ReadonlySet<number>): number | undefined {
  if (def.countLeft !== undefined && def.countLeft <= 0) return undefined;
  const trigger = triggerOf(def);
  let t = trigger.next(now);
  for (let i = 0; t !== undefined && taken.has(t) && i < TAKEN_LOOKED_AT; i++) t = trigger.next(t);
  return t === undefined || (def.until !== undefined && t > def.until) ? undefined : t;
}
