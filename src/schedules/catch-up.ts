/**
 * Missed ticks. BullMQ runs a tick whose producers (or Redis) were down once, late, and schedules the
 * next one from then; each schedule chooses whether that late tick still runs (see
 * KindDeclaration.catchUp): `once` runs it, `skip` drops a tick older than one interval, `within D`
 * runs it only if the most recent slot it stands for is younger than D.
 */
import { CronExpressionParser } from 'cron-parser';
import { formatDuration } from '../config/duration.js';
import type { ScheduleConfig } from '../config/kind-config.js';

export type CatchUpVerdict = { run: true } | { run: false; reason: string };

/** The time from the slot at `at` to the one after it. */
export function intervalAt(s: ScheduleConfig, tz: string, at: number): number {
  if (s.interval.every !== undefined) return s.interval.every;
  const next = CronExpressionParser.parse(s.interval.pattern, { currentDate: new Date(at), tz })
    .next()
    .getTime();
  return next - at;
}

/** The latest slot at or before `now`, and not before `due`. */
function mostRecentSlot(s: ScheduleConfig, tz: string, due: number, now: number): number {
  if (s.interval.every !== undefined) return due + Math.floor((now - due) / s.interval.every) * s.interval.every;
  const prev = CronExpressionParser.parse(s.interval.pattern, { currentDate: new Date(now + 1), tz })
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
