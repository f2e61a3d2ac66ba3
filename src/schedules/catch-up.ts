/**
 * Missed ticks. BullMQ runs a tick whose producers (or Redis) were down once, late, and schedules the
 * next one from then; each schedule chooses whether that late tick still runs (see
 * KindDeclaration.catchUp): `once` runs it, `skip` drops a tick older than one interval, `within D`
 * runs it only if the most recent slot it stands for is younger than D.
 */
import { CronExpressionParser } from 'cron-parser';
import { formatDuration } from '../config/duration.js';
import type { ScheduleConfig } from '../config/kind-config.js';
import { cadenceOf, type NextRun } from './kind-cadence.js';

export type CatchUpVerdict = { run: true } | { run: false; reason: string };

/** The most steps taken through an RRULE's or a function's runs to find the most recent slot. */
export const MAX_SLOT_STEPS = 10_000;

/** The time from the slot at `at` to the one after it (Infinity when there is none). */
export function intervalAt(s: ScheduleConfig, tz: string, at: number): number {
  const c = cadenceOf(s, tz);
  if (c.form === 'every') return c.every;
  if (!Number.isFinite(at)) return Number.POSITIVE_INFINITY;
  if (c.form === 'cron') {
    const next = CronExpressionParser.parse(c.pattern, { currentDate: new Date(at), tz })
      .next()
      .getTime();
    return next - at;
  }
  const next = c.next(at);
  return next === undefined ? Number.POSITIVE_INFINITY : next - at;
}

/**
 * The latest run in (`due`, `now`] of a schedule known only by its next runs, or `due`. Looks back
 * from `now` over windows that double until one holds a run, then walks forward through that window:
 * at most MAX_SLOT_STEPS calls, whatever the cadence and however long the producers were down.
 */
export function latestRun(next: NextRun, due: number, now: number): number {
  let steps = 0;
  let from = due;
  for (let w = 1000; now - w > due && steps < MAX_SLOT_STEPS; w *= 2) {
    steps++;
    const n = next(now - w);
    // None left after the window's start: any run there is was before it; walk from `due`.
    if (n === undefined) break;
    if (n <= now) {
      from = now - w;
      break;
    }
  }
  let latest = due;
  for (let t = next(from); t !== undefined && t <= now && steps < MAX_SLOT_STEPS; t = next(t)) {
    steps++;
    latest = Math.max(latest, t);
  }
  return latest;
}

/** The latest slot at or before `now`, and not before `due`. */
function mostRecentSlot(s: ScheduleConfig, tz: string, due: number, now: number): number {
  const c = cadenceOf(s, tz);
  if (c.form === 'every') return due + Math.floor((now - due) / c.every) * c.every;
  if (c.form !== 'cron') return latestRun(c.next, due, now);
  const prev = CronExpressionParser.parse(c.pattern, { currentDate: new Date(now + 1), tz })
    .prev()
    .getTime();
  return Math.max(due, prev);
}

/** Whether the tick due at `due` still runs at `now`. */
export function catchUpVerdict(s: ScheduleConfig, tz: string, due: number, now: number): CatchUpVerdict {
  const policy = s.catchUp;
  if (policy.policy === 'once') return { run: true };
  const lag = now - due;
  if (policy.policy === 'skip') {
    const interval = intervalAt(s, tz, due);
    if (lag <= interval) return { run: true };
    return { run: false, reason: `missed by ${formatDuration(lag)}, more than one interval (${formatDuration(interval)}); catch-up: skip` };
  }
  const age = now - mostRecentSlot(s, tz, due, now);
  if (age <= policy.ms) return { run: true };
  return { run: false, reason: `its most recent slot passed ${formatDuration(age)} ago; catch-up: within ${formatDuration(policy.ms)}` };
}
