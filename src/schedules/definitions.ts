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
   * The phase that gives is computed when the scheduler is created (see `repeatAt`), not stored here.
   */
  bootDelayMs?: number;
  /** Fingerprint of the repeat settings; a scheduler is re-upserted only when it changes. */
  spec: string;
}

/**
 * The repeat options to create the scheduler with, `now`. For `boot`, the phase (BullMQ's offset)
 * that puts the next tick `bootDelayMs` from now and every interval after it.
 */
export function repeatAt(d: ScheduleDefinition, now = Date.now()): ScheduleDefinition['repeat'] {
  if (d.bootDelayMs === undefined || !('every' in d.repeat)) return d.repeat;
  const offset = (now + d.bootDelayMs) % d.repeat.every;
  // BullMQ reads an offset of 0 as "none" and would tick at once; one millisecond later is the same slot.
  return { every: d.repeat.every, offset: offset || 1 };
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
