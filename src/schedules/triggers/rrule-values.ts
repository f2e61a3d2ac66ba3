/** RRULE value spellings: frequencies, weekday codes and UNTIL's date-times. */
import { daysInMonth } from './once.js';
import { wallClock } from './wall-clock.js';

/** In rrule's Frequency order: YEARLY 0 … SECONDLY 6. */
export const RRULE_FREQS = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'] as const;
/** In rrule's weekday order: MO 0 … SU 6. */
export const BYDAY_CODES = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

const UNTIL = /^(\d{4})(\d\d)(\d\d)(?:T(\d\d)(\d\d)(\d\d)(Z)?)?$/;

/**
 * UNTIL as an instant, or why it is not one. `20270131T040000Z` is that instant; `20270131T040000`
 * a wall time in `tz`; a date alone, `20270131`, runs through the end of that day in `tz`.
 */
export function untilInstant(value: string, tz: string): number | string {
  const m = UNTIL.exec(value);
  if (m === null) return 'UNTIL is a date such as 20270131, or a date-time such as 20270131T040000Z';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dateOnly = m[4] === undefined;
  const [hour, minute, second] = dateOnly ? [23, 59, 59] : [Number(m[4]), Number(m[5]), Number(m[6])];
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return `${value} is not a date-time`;
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  return m[7] === 'Z' ? wall : wallClock(tz).resolve(wall).instant;
}

/** An instant as UNTIL writes it in UTC: 20270131T040000Z. */
export function untilText(instant: number): string {
  return `${new Date(instant).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}
