/**
 * The schedules as data: what should exist in Redis, derived from the config. Reconciliation makes
 * Redis match this list; nothing else creates or deletes a scheduler.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import { scheduledKinds, type TickJobData } from '../jobs/registry.js';
import { cadenceOf, patternOf, scheduleLabel } from './kind-cadence.js';

export interface ScheduleDefinition {
  /** The kind's name; the scheduler's key. */
  name: string;
  queue: string;
  enabled: boolean;
  repeat: { every: number; offset?: number } | { pattern: string; tz: string };
  /** The schedule in an operator's words (scheduleLabel). */
  intervalText: string;
  spreadMs: number;
  /**
   * `firstRun: boot`: the first tick this long after the scheduler is created, then every interval.
   * The start date that gives is computed when the scheduler is created (see `repeatAt`), not stored here.
   */
  bootDelayMs?: number;
  /** Fingerprint of the repeat settings; a scheduler is re-upserted only when it changes. */
  spec: string;
}

/** What the scheduler is upserted with: the definition's repeat, and for `boot` when its first tick falls. */
export type RepeatAt = ScheduleDefinition['repeat'] | { every: number; startDate: number; offset?: number };

/**
 * The repeat options to upsert the scheduler with, `now`, given the scheduler in Redis (`cur`).
 *
 * For `boot`, a new scheduler or a changed interval gets a start date `bootDelayMs` from now: BullMQ
 * runs the first tick then (at once when that has passed by the time Redis sees it) and keeps that
 * phase. An offset alone that puts the slot at now + delay would not do for a small delay: BullMQ's
 * now, taken as it calls Redis, is later than ours, the slot has passed, and it waits an interval.
 * The start date's phase goes along as the offset: BullMQ aligns missed runs to the stored offset,
 * and a replaced scheduler would otherwise keep the old interval's.
 *
 * The same interval (drift repaired, a stranded tick) keeps the phase in Redis: BullMQ ignores a
 * start date once the scheduler has run, and an offset for now would move the phase.
 */
export function repeatAt(d: ScheduleDefinition, now = Date.now(), cur?: { every?: number; offset?: number }): RepeatAt {
  if (d.bootDelayMs === undefined || !('every' in d.repeat)) return d.repeat;
  const { every } = d.repeat;
  if (cur && Number(cur.every) === every) {
    const phase = Number(cur.offset ?? 0);
    return phase > 0 ? { every, offset: phase } : { every };
  }
  const startDate = now + d.bootDelayMs;
  // BullMQ reads an offset of 0 as none; the start date's phase is then worked out from it anyway.
  const offset = startDate % every;
  return offset > 0 ? { every, startDate, offset } : { every, startDate };
}

/** Template data of every tick job of a scheduler. */
export interface TickTemplateData extends TickJobData {
  spec: string;
}

/**
 * One definition per scheduled kind. Reads every rule and schedule function (kind-cadence.ts): a
 * producer calls this at start, so a bad one stops it with a ConfigError naming the variable.
 */
export function scheduleDefinitions(config: Config): ScheduleDefinition[] {
  return scheduledKinds(config).map(({ name, queue, schedule }) => {
    const s = schedule as NonNullable<typeof schedule>;
    const c = cadenceOf(s, config.tz);
    // Offsets apply to interval schedules; a cron expression or a rule already says exactly when it runs.
    const boot = s.firstRun === 'boot' && c.form === 'every';
    const repeat =
      c.form === 'every'
        ? { every: c.every, ...(s.offsetMs > 0 && !boot ? { offset: s.offsetMs } : {}) }
        : { pattern: patternOf(name, c), tz: config.tz };
    const spec = createHash('sha256')
      .update(JSON.stringify(boot ? { ...repeat, firstRun: 'boot', delay: s.offsetMs } : repeat))
      .digest('hex')
      .slice(0, 16);
    return {
      name,
      queue,
      enabled: s.enabled,
      repeat,
      intervalText: scheduleLabel(name, s, config.tz),
      spreadMs: s.spreadMs,
      spec,
      ...(boot ? { bootDelayMs: s.offsetMs } : {}),
    };
  });
}
