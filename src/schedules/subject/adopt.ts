/**
 * A schedule replaced less than a window before a run that its new definition keeps: that run's job
 * was made from the old definition (its data carries the old version, so its start would skip it as
 * replaced), and the new definition could not make another (the job id is the run's). The upsert
 * (sched-upsert.lua) adopts the job instead: it rewrites the version in the job's data (or in its
 * spec, for a fair kind's job waiting for admission) and stores the definition as it stands after
 * that run. These are the values it needs, per schedule.
 */
import type { Config } from '../../config/config.js';
import { fairKeys } from '../../jobs/fair-keys.js';
import { queueKey } from '../../redis/keys.js';
import { encodeDef } from './codec.js';
import type { Checked } from './input.js';
import { planOccurrence } from './occurrence.js';

/** The job key prefix of the kind's queue, its fair specs ('' if not fair), and the next run and definition after the first. */
export function adoptionArgs(config: Config, c: Checked): [string, string, string, string] {
  const kind = config.kinds[c.def.kind];
  if (!kind) return ['', '', '', ''];
  const after = planOccurrence(c.def, c.first, c.first, c.trigger, kind.catchUp);
  return [
    queueKey(config.prefix, kind.queue, ''),
    kind.fair ? fairKeys(config.prefix, kind).specs : '',
    after.next === undefined ? '' : String(after.next),
    encodeDef(after.def).text,
  ];
}
