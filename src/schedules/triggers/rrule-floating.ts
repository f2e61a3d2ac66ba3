/**
 * An RRULE evaluated by the rrule package on floating wall time (wall times written as UTC). rrule's
 * own zone support is unreliable, so it is given no zone; wall-clock.ts places its wall times.
 *
 * Two things keep each evaluation short. rrule walks every period from DTSTART, so a rule without
 * COUNT is restarted at the period holding the cursor: its parts are first made explicit (what rrule
 * would take from DTSTART is written in), and a later start on the same grid of periods then gives the
 * same occurrences after it. And rrule stops only at an occurrence or after the year 9999, so each
 * evaluation is moved whole 400-year Gregorian cycles ahead (dates, weekdays and week numbers repeat
 * exactly) to start between 9200 and 9600: a rule is looked at least 400 years ahead, never 8,000.
 */
import rrulePkg, { type Frequency, type Options } from 'rrule';
import { DAILY, HOURLY, MINUTELY, MONTHLY, type RuleParts, SECONDLY, WEEKLY, YEARLY } from './rrule-parts.js';

const { RRule, Weekday } = rrulePkg;

const DAY = 86_400_000;
/** 400 Gregorian years: 146,097 days, a whole number of weeks. */
const CYCLE = 146_097 * DAY;
/** Evaluations start in [LOOK_FROM_YEAR, LOOK_FROM_YEAR + 400); rrule stops after 9999. */
const LOOK_FROM_YEAR = 9200;
/** Milliseconds of each sub-daily frequency's unit. */
const UNIT_MS: Record<number, number> = { [HOURLY]: 3_600_000, [MINUTELY]: 60_000, [SECONDLY]: 1000 };

/** rrule's weekday (MO 0 … SU 6) of a floating wall time. */
function weekdayOf(wall: number): number {
  return (new Date(wall).getUTCDay() + 6) % 7;
}

/** `parts` with everything rrule would take from DTSTART written in, as rrule's parseOptions does. */
export function explicitParts(parts: RuleParts, dtstart: number): RuleParts {
  const p = { ...parts };
  const d = new Date(dtstart);
  if (!p.byweekno && !p.byyearday && !p.bymonthday && !p.byday) {
    if (p.freq === YEARLY) p.bymonth ??= [d.getUTCMonth() + 1];
    if (p.freq === YEARLY || p.freq === MONTHLY) p.bymonthday = [d.getUTCDate()];
    if (p.freq === WEEKLY) p.byday = [{ weekday: weekdayOf(dtstart) }];
  }
  if (p.freq < HOURLY) p.byhour ??= [d.getUTCHours()];
  if (p.freq < MINUTELY) p.byminute ??= [d.getUTCMinutes()];
  if (p.freq < SECONDLY) p.bysecond ??= [d.getUTCSeconds()];
  return p;
}

/** rrule's options for explicit parts, without DTSTART, COUNT and UNTIL. */
export function rruleOptions(p: RuleParts): Partial<Options> {
  return {
    freq: p.freq as Frequency,
    interval: p.interval,
    wkst: p.wkst,
    bymonth: p.bymonth ?? null,
    byweekno: p.byweekno ?? null,
    byyearday: p.byyearday ?? null,
    bymonthday: p.bymonthday ?? null,
    byweekday: p.byday?.map((d) => (d.n === undefined ? d.weekday : new Weekday(d.weekday, d.n))) ?? null,
    byhour: p.byhour ?? null,
    byminute: p.byminute ?? null,
    bysecond: p.bysecond ?? null,
    bysetpos: p.bysetpos ?? null,
  };
}

/**
 * The start of the period holding `cursor` on the grid of periods starting with `dtstart`'s, or
 * `dtstart` itself while `cursor` is still in the first period (which begins at `dtstart`, not before).
 */
export function periodStart(p: RuleParts, dtstart: number, cursor: number): number {
  const d = new Date(dtstart);
  const c = new Date(cursor);
  if (p.freq === YEARLY || p.freq === MONTHLY) {
    // Periods counted in months: 12 per step of a yearly rule, 1 of a monthly one.
    const months = (date: Date) => date.getUTCFullYear() * 12 + date.getUTCMonth();
    const step = (p.freq === YEARLY ? 12 : 1) * p.interval;
    const first = p.freq === YEARLY ? d.getUTCFullYear() * 12 : months(d);
    const j = Math.floor((months(c) - first) / step);
    if (j < 1) return dtstart;
    const m = first + j * step;
    return Date.UTC(Math.floor(m / 12), m % 12, 1);
  }
  const unit = p.freq === WEEKLY ? 7 * DAY : p.freq === DAILY ? DAY : (UNIT_MS[p.freq] as number);
  const trunc = p.freq <= DAILY ? DAY : unit;
  let origin = Math.floor(dtstart / trunc) * trunc;
  if (p.freq === WEEKLY) origin -= ((weekdayOf(dtstart) - p.wkst + 7) % 7) * DAY;
  const step = unit * p.interval;
  const j = Math.floor((cursor - origin) / step);
  return j < 1 ? dtstart : origin + j * step;
}

/** Whole 400-year cycles that move `wall` to LOOK_FROM_YEAR or just after, in ms. */
function shiftFor(wall: number): number {
  const year = new Date(wall).getUTCFullYear();
  return year < LOOK_FROM_YEAR ? Math.ceil((LOOK_FROM_YEAR - year) / 400) * CYCLE : 0;
}

/** What one evaluation needs: explicit parts, their rrule options, DTSTART, COUNT, and UNTIL's hint. */
export interface Floating {
  parts: RuleParts;
  options: Partial<Options>;
  dtstart: number;
  count?: number;
  /** A floating wall time no wall time up to UNTIL lies beyond (UNTIL's instant plus a day). */
  untilWall?: number;
}

/** The first floating wall time of the rule strictly after `cursor`, or undefined. */
export function nextFloating(f: Floating, cursor: number): number | undefined {
  const from = f.count === undefined && cursor >= f.dtstart ? periodStart(f.parts, f.dtstart, cursor) : f.dtstart;
  const shift = shiftFor(cursor);
  const rule = new RRule(
    {
      ...f.options,
      dtstart: new Date(from + shift),
      count: f.count ?? null,
      until: f.untilWall === undefined ? null : new Date(f.untilWall + shift),
    },
    true,
  );
  const found = rule.after(new Date(cursor + shift), false);
  return found === null ? undefined : found.getTime() - shift;
}
