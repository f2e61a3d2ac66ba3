/**
 * A schedule replaced less than a window before a run that its new definition keeps: that run's job
 * was made from the old definition (its data carries the old version, so its start would skip it as
 * replaced), and the new definition cannot make another (the job id is the run's). The upsert
 * (sched-upsert.lua) adopts the job instead: it rewrites the version in the job's data, or in its
 * spec for a fair kind's job waiting for admission. The producer then takes the run for the new
 * definition as for any run whose job exists already: its count spent once, no second job.
 */
import type { Config } from '../../config/config.js';
import { fairKey, queueKey } from '../../redis/keys.js';

/** Where the kind's jobs are: its queue's job key prefix, and its fair specs ('' when not fair). */
export function adoptionKeys(config: Config, kindName: string): [string, string] {
  const kind = config.kinds[kindName];
  if (!kind) return ['', ''];
  return [queueKey(config.prefix, kind.queue, ''), kind.fair ? fairKey(config.prefix, kind.name, 'specs') : ''];
}
