/**
 * A fast next-run search for crons of plain fields (numbers, ranges, steps, lists, names: no L or #),
 * on floating wall time. cron-parser steps a luxon date second by second, minute by minute and day by
 * day, some 50µs when the next run is on another day; the store asks on every add and every run.
 * This walks days with the fields as lookup tables and picks the time of day directly. It follows
 * cron-parser's rules (when both day fields are restricted a day matching either runs; 7 is Sunday),
 * and a test holds it to cron-parser on many expressions and instants. Crons with L or # keep
 * cron-parser.
 */
import type { CronFieldCollection } from 'cron-parser';

const DAY = 86_400_000;
/** How far a run is looked for: every cron that runs at all runs within 8 years (29 February). */
const HORIZON_MS = 30 * 366 * DAY;

/** next[x]: the first value ≥ x in `values`, or -1; next[size] is -1. */
function nextTable(values: readonly (number | string)[], size: number, map: (v: number) => number = (v) => v): Int8Array {
  const has = new Uint8Array(size + 1);
  for (const v of values) if (typeof v === 'number') has[map(v)] = 1;
  const next = new Int8Array(size + 1).fill(-1);
  for (let x = size - 1; x >= 0; x--) next[x] = has[x] ? x : (next[x + 1] as number);
  return next;
}

/** Whether cron-parser's fields are plain enough for CronPlan: no L (last) and no # (nth weekday). */
export function isPlain(fields: CronFieldCollection): boolean {
  return !fields.dayOfMonth.hasLastChar && !fields.dayOfWeek.hasLastChar && fields.dayOfWeek.nthDay === 0;
}

/** The tables of one plain cron. */
export class CronPlan {
  private readonly second: Int8Array;
  private readonly minute: Int8Array;
  private readonly hour: Int8Array;
  private readonly dom: Int8Array;
  private readonly month: Int8Array;
  private readonly dow: Int8Array;
  private readonly domRestricted: boolean;
  private readonly dowRestricted: boolean;

  constructor(fields: CronFieldCollection) {
    this.second = nextTable(fields.second.values, 60);
    this.minute = nextTable(fields.minute.values, 60);
    this.hour = nextTable(fields.hour.values, 24);
    this.dom = nextTable(fields.dayOfMonth.values, 32);
    this.month = nextTable(fields.month.values, 13);
    this.dow = nextTable(fields.dayOfWeek.values, 7, (v) => v % 7);
    this.domRestricted = !fields.dayOfMonth.isWildcard;
    this.dowRestricted = !fields.dayOfWeek.isWildcard;
  }

  /** The first run strictly after the floating wall time `wall`, or undefined within the horizon. */
  next(wall: number): number | undefined {
    let t = Math.floor(wall / 1000) * 1000 + 1000;
    const end = wall + HORIZON_MS;
    while (t <= end) {
      const d = new Date(t);
      const year = d.getUTCFullYear();
      const month = d.getUTCMonth() + 1;
      if (this.month[month] !== month) {
        t = Date.UTC(year, month, 1);
        continue;
      }
      const day = d.getUTCDate();
      if (this.dayMatches(day, d.getUTCDay())) {
        const at = this.timeOfDay(d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
        if (at !== undefined) return Date.UTC(year, month - 1, day) + at;
      }
      t = Date.UTC(year, month - 1, day + 1);
    }
    return undefined;
  }

  private dayMatches(day: number, weekday: number): boolean {
    const dom = this.dom[day] === day;
    const dow = this.dow[weekday] === weekday;
    if (this.domRestricted && this.dowRestricted) return dom || dow;
    return this.dowRestricted ? dow : dom;
  }

  /** Ms into the day of the first time of day at or after h:m:s, or undefined when none is left. */
  private timeOfDay(h: number, m: number, s: number): number | undefined {
    const hour = this.hour[h] as number;
    if (hour < 0) return undefined;
    if (hour > h) return this.at(hour, this.minute[0] as number, this.second[0] as number);
    const minute = this.minute[m] as number;
    if (minute === m) {
      const second = this.second[s] as number;
      if (second >= 0) return this.at(h, m, second);
    }
    const later = minute > m ? minute : (this.minute[m + 1] as number);
    if (later >= 0) return this.at(h, later, this.second[0] as number);
    const nextHour = this.hour[h + 1] as number;
    return nextHour < 0 ? undefined : this.at(nextHour, this.minute[0] as number, this.second[0] as number);
  }

  private at(h: number, m: number, s: number): number {
    return ((h * 60 + m) * 60 + s) * 1000;
  }
}
