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
export type RepeatAt = ScheduleDefinition['repeat'] | { every: number; startDate: number };

/**
 * The repeat options to create the scheduler with, `now`. For `boot`, a start date `bootDelayMs` from
 * now and no offset: BullMQ runs the first tick then (at once when that has passed by the time Redis
 * sees it) and keeps that phase. An offset that puts the slot at now + delay would not do for a small
 * delay: BullMQ's now, taken as it calls Redis, is later than ours, the slot has passed, and BullMQ waits for the next interval.
 * BullMQ reads the start date only for a scheduler with no run yet or a changed interval: one that is
 * upserted again as it was keeps its next run, and does not tick again.
 */
export function repeatAt(d: ScheduleDefinition, now = Date.now()): RepeatAt {
  if (d.bootDelayMs === undefined || !('every' in d.repeat)) return d.repeat;
  return { every: d.repeat.every, startDate: now + d.bootDelayMs };
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
