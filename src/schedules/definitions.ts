/**
 * The schedules as data: what should exist in Redis, derived from the config. Reconciliation makes
 * Redis match this list; nothing else creates or deletes a scheduler.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { scheduledKinds, type TickJobData } from '../jobs/registry.js';

export interface ScheduleDefinition {
  /** The kind's name; the scheduler's key. */
  name: string;
  queue: string;
  enabled: boolean;
  repeat: { every: number; offset?: number } | { pattern: string; tz: string };
  intervalText: string;
  spreadMs: number;
  /** Fingerprint of the repeat settings; a scheduler is re-upserted only when it changes. */
  spec: string;
}

/** Template data of every tick job of a scheduler. */
export interface TickTemplateData extends TickJobData {
  spec: string;
}

export function scheduleDefinitions(config: Config): ScheduleDefinition[] {
  return scheduledKinds(config).map(({ name, queue, schedule }) => {
    const s = schedule as NonNullable<typeof schedule>;
    // Offsets apply to interval schedules; a cron expression already says exactly when it runs.
    const repeat =
      s.interval.every !== undefined
        ? { every: s.interval.every, ...(s.offsetMs > 0 ? { offset: s.offsetMs } : {}) }
        : { pattern: s.interval.pattern, tz: config.tz };
    const spec = createHash('sha256').update(JSON.stringify(repeat)).digest('hex').slice(0, 16);
    return { name, queue, enabled: s.enabled, repeat, intervalText: s.intervalText, spreadMs: s.spreadMs, spec };
  });
}
