/**
 * RRULEs that can never run from their start, found without walking them. Some must be: rrule steps a
 * sub-daily rule until its time-of-day parts match, for ever when they never can (FREQ=HOURLY;
 * INTERVAL=24;BYHOUR=5 from 09:00 only ever sees 09:00). The rest are common mistakes that rrule would
 * walk 400 years to find empty.
 */
import { DAILY, HOURLY, MINUTELY, MONTHLY, type RuleParts, SECONDLY } from './rrule-parts.js';

const ALL_HOURS = Array.from({ length: 24 }, (_, i) => i);
const ALL_MINUTES = Array.from({ length: 60 }, (_, i) => i);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Why explicit parts (see explicitParts) never run from the floating `dtstart`; undefined when they may. */
export function neverRuns(p: RuleParts, dtstart: number): string | undefined {
  const d = new Date(dtstart);
  if (p.freq >= HOURLY && !timeReachable(p, d)) {
    return `with INTERVAL=${p.interval} from ${d.toISOString().slice(11, 19)} it never reaches the times of day it names`;
  }
  if (p.freq === DAILY && p.interval % 7 === 0 && p.byday && !p.byday.some((b) => b.weekday === (d.getUTCDay() + 6) % 7)) {
    return `with INTERVAL=${p.interval} days from a ${d.toUTCString().slice(0, 3)} it never reaches the weekdays it names`;
  }
  if (p.freq === MONTHLY && p.bymonth) {
    const g = gcd(p.interval, 12);
    if (!p.bymonth.some((m) => (m - 1 - d.getUTCMonth()) % g === 0)) {
      return `with INTERVAL=${p.interval} months from month ${d.getUTCMonth() + 1} it never reaches the months it names`;
    }
  }
  const perPeriod = setSize(p);
  if (p.bysetpos && perPeriod !== undefined && p.bysetpos.every((pos) => Math.abs(pos) > perPeriod)) {
    return `BYSETPOS picks beyond the ${perPeriod} time(s) each period has`;
  }
  return undefined;
}

/**
 * Whether a sub-daily rule's steps reach a time of day its parts allow. Steps of INTERVAL units from
 * the start reach exactly the positions in the day congruent to the start's modulo gcd(step, day).
 */
function timeReachable(p: RuleParts, d: Date): boolean {
  const perDay = p.freq === HOURLY ? 24 : p.freq === MINUTELY ? 1440 : 86_400;
  const g = gcd(p.interval % perDay, perDay);
  const position = (h: number, m: number, s: number) => (p.freq === HOURLY ? h : p.freq === MINUTELY ? h * 60 + m : h * 3600 + m * 60 + s);
  const start = position(d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  const minutes = p.freq >= MINUTELY ? (p.byminute ?? ALL_MINUTES) : [0];
  const seconds = p.freq >= SECONDLY ? (p.bysecond ?? ALL_MINUTES) : [0];
  for (const h of p.byhour ?? ALL_HOURS) {
    for (const m of minutes) {
      for (const s of seconds) {
        if ((((position(h, m, s) - start) % g) + g) % g === 0) return true;
      }
    }
  }
  return false;
}

/** How many times each period of a daily or finer rule has, when that is fixed. */
function setSize(p: RuleParts): number | undefined {
  if (p.freq < DAILY) return undefined;
  const count = (list: number[] | undefined, all: number) => list?.length ?? all;
  if (p.freq === DAILY) return count(p.byhour, 24) * count(p.byminute, 60) * count(p.bysecond, 60);
  if (p.freq === HOURLY) return count(p.byminute, 60) * count(p.bysecond, 60);
  return p.freq === MINUTELY ? count(p.bysecond, 60) : 1;
}
