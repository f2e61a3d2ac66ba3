/**
 * Runs a producer already took: their jobs are made (pending until they start), and their count is
 * spent. A schedule resumed inside the execution window goes on after them, so no run is taken twice
 * (a second take would add no job, its id being the same, and spend the count again).
 */
import type { RedisClient } from '../../redis/connection.js';
import { schedulePendingKey } from '../../redis/keys.js';
import { parseTrigger, type Trigger } from '../triggers/index.js';
import { type ScheduleDef, versionOf } from './codec.js';

/** Runs from now on looked up at most: more than a window holds of any schedule a user would pause. */
export const TAKEN_LOOKED_AT = 64;

const triggerOf = (def: ScheduleDef): Trigger => parseTrigger(def.rule, { tz: def.tz, start: def.start });

/**
 * The runs of schedule `id` after `now` (up to TAKEN_LOOKED_AT) pending now, taken from its stored
 * definition `text` (sched-commit.lua) or by an earlier release, which wrote no version.
 */
export async function takenRuns(
  conn: RedisClient,
  prefix: string,
  id: string,
  stored: { text: string; def: ScheduleDef },
  now: number,
): Promise<Set<number>> {
  const version = versionOf(stored.text);
  const trigger = triggerOf(stored.def);
  const times: number[] = [];
  for (let t = trigger.next(now); t !== undefined && times.length < TAKEN_LOOKED_AT; t = trigger.next(t)) times.push(t);
  if (times.length === 0) return new Set();
  const members = times.flatMap((t) => [`${id}:${t}:${version}`, `${id}:${t}`]);
  const scores = await conn.zmscore(schedulePendingKey(prefix), ...members);
  return new Set(times.filter((_, i) => scores[2 * i] !== null || scores[2 * i + 1] !== null));
}

/** The first run after `now` not among `taken`, within the definition's runs left and until. */
export function nextUntaken(def: ScheduleDef, now: number, taken: ReadonlySet<number>): number | undefined {
  if (def.countLeft !== undefined && def.countLeft <= 0) return undefined;
  const trigger = triggerOf(def);
  let t = trigger.next(now);
  for (let i = 0; t !== undefined && taken.has(t) && i < TAKEN_LOOKED_AT; i++) t = trigger.next(t);
  return t === undefined || (def.until !== undefined && t > def.until) ? undefined : t;
}
