/**
 * `once`: a single run, `at 2027-01-31T04:00:00Z` (an instant, with Z or an offset such as +01:00) or
 * `at 2027-01-31T04:00` / `at 2027-01-31 04:00` (a wall time in the context's zone, by the
 * daylight-saving rule of wall-clock.ts). Canonical: `at <the instant in UTC, to the second>Z`, with
 * milliseconds only when there are some.
 */
import { RuleError } from './rule-error.js';
import type { FormParser, Trigger, TriggerContext } from './trigger.js';
import { wallClock } from './wall-clock.js';

const PREFIX = /^at (\d{4}-\d\d-\d\d[t ].*)$/i;
const ISO = /^(\d{4})-(\d\d)-(\d\d)[t ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?(z|[+-]\d\d:?\d\d)?$/i;
const OFFSET = /^([+-])(\d\d):?(\d\d)$/;

/** A calendar date and time of day as parsed, before it is placed in a zone. */
interface Stamp {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** Days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The floating wall time (epoch ms read as UTC) of a stamp, or a RuleError naming the bad field. */
function floating(rule: string, text: string, s: Stamp): number {
  const bad = (what: string) => new RuleError(rule, `${what} in "${text}" of "${rule}"`);
  if (s.year < 1970) throw bad(`year ${s.year} is before 1970`);
  if (s.month < 1 || s.month > 12) throw bad(`month ${s.month} is not 01–12`);
  if (s.day < 1 || s.day > daysInMonth(s.year, s.month)) throw bad(`day ${s.day} is not a day of that month`);
  if (s.hour > 23) throw bad(`hour ${s.hour} is not 00–23`);
  if (s.minute > 59) throw bad(`minute ${s.minute} is not 00–59`);
  if (s.second > 59) throw bad(`second ${s.second} is not 00–59`);
  return Date.UTC(s.year, s.month - 1, s.day, s.hour, s.minute, s.second, s.ms);
}

/** The instant of an ISO date-time: its own offset when it has one, else a wall time in `tz`. */
function instantOf(rule: string, text: string, tz: string): number {
  const m = ISO.exec(text);
  if (m === null)
    throw new RuleError(
      rule,
      `did not understand "${text}" in "${rule}": expected a date and time such as 2027-01-31T04:00:00Z or 2027-01-31 04:00`,
    );
  const [, y, mo, d, h, mi, s, ms, zone] = m;
  const wall = floating(rule, text, {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s ?? 0),
    ms: Number((ms ?? '0').padEnd(3, '0')),
  });
  if (zone === undefined) return wallClock(tz).resolve(wall).instant;
  if (zone.toLowerCase() === 'z') return wall;
  const [, sign, oh, om] = OFFSET.exec(zone) as RegExpExecArray;
  if (Number(oh) > 23 || Number(om) > 59) throw new RuleError(rule, `offset "${zone}" is not an offset in "${rule}"`);
  const offset = (Number(oh) * 60 + Number(om)) * 60_000;
  return sign === '-' ? wall + offset : wall - offset;
}

/** `at <instant>` as canonical text. */
export function onceCanonical(instant: number): string {
  return `at ${new Date(instant).toISOString().replace('.000Z', 'Z')}`;
}

/** A trigger that runs once, at `instant`. */
export function onceAt(instant: number): Trigger {
  return {
    form: 'once',
    canonical: onceCanonical(instant),
    next: (after) => (instant > after ? instant : undefined),
  };
}

/** Parses `at <date and time>`; other text is not this form. */
export const parseOnce: FormParser = (text: string, ctx: TriggerContext) => {
  const m = PREFIX.exec(text);
  if (m === null) return undefined;
  return onceAt(instantOf(text, m[1] as string, ctx.tz));
};
