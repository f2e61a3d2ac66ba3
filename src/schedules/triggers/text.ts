/**
 * English text ("every other tuesday at 9:34am", "every day at 08:00", "every 2 hours"), read by this
 * package's own small grammar (text-grammar.ts) into one of the other forms, whose canonical text is
 * then the trigger's. rrule's own `fromText` is not used: it does not read times of day ("at 9:34am")
 * nor "every other tuesday", and what it does not understand it drops rather than refuses.
 *
 * What each phrase becomes:
 * - every N seconds|minutes|hours, and every N days|weeks without a time of day: an `every`
 *   duration, counted from the creation ("every 2 hours" runs 2h, 4h, … after it, not on the hour);
 * - a time of day every day, on weekdays, on days of the month or on a date every year: `cron`;
 * - the same every other (every N) day, week, month or year, or on the last day of the month: `rrule`,
 *   whose INTERVAL counts from the creation's day, week, month or year;
 * - a date with a time (`on 2027-01-31 at 04:00`, `once on …`): `once`, a wall time in the zone.
 * What is not said is not guessed: a weekly or monthly phrase needs its time of day, "on the 31st of
 * every month" is refused (not every month has one; say "last day"), and so is a day a month never has.
 */
import { BoundedCache, PARSED_KEPT } from './bounded-cache.js';
import { parseCron } from './cron.js';
import { parseEvery } from './every.js';
import { daysInMonth, parseOnce } from './once.js';
import { parseRrule } from './rrule.js';
import { RuleError } from './rule-error.js';
import { type Phrase, readPhrase } from './text-grammar.js';
import type { FormParser, Trigger, TriggerContext } from './trigger.js';

const BYDAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const MONTH_NAMES = [
  '',
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const DURATION_UNIT = { second: 's', minute: 'm', hour: 'h' } as const;
const HOURS_IN = { day: 24, week: 168 } as const;

/** Texts already read, and the form text each became. */
const read = new BoundedCache<string, string>(PARSED_KEPT);

/** A refusal: what is wrong, and what to say instead. */
type Refuse = (why: string, hint?: string) => RuleError;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `m h` (or `s m h` when there are seconds) of a cron. */
function cronTime(p: Phrase): string {
  const t = p.time as NonNullable<Phrase['time']>;
  return t.second === 0 ? `${t.minute} ${t.hour}` : `${t.second} ${t.minute} ${t.hour}`;
}

/** `;BYHOUR=…;BYMINUTE=…;BYSECOND=…` of an RRULE. */
function rruleTime(p: Phrase): string {
  const t = p.time as NonNullable<Phrase['time']>;
  return `;BYHOUR=${t.hour};BYMINUTE=${t.minute};BYSECOND=${t.second}`;
}

function once(p: Phrase, refuse: Refuse): string {
  const d = p.date;
  if (d === undefined) throw refuse('"once" without a date', 'say one, such as "once on 2027-01-31 at 04:00"');
  if (p.every || p.weekdays || p.monthdays) throw refuse('a date does not go with a repetition');
  if (p.time === undefined) throw refuse('no time of day', 'add one, such as "at 9:00"');
  const t = p.time;
  return `at ${d.year}-${pad(d.month)}-${pad(d.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

function weekly(p: Phrase, n: number, refuse: Refuse): string {
  const days = p.weekdays as number[];
  if (p.time === undefined) throw refuse('no time of day', 'add one, such as "at 9:00"');
  if (n === 1) return `cron ${cronTime(p)} * * ${days.join(',')}`;
  const byday = [...days.filter((d) => d > 0), ...days.filter((d) => d === 0)].map((d) => BYDAY[d]);
  return `FREQ=WEEKLY;INTERVAL=${n};BYDAY=${byday.join(',')}${rruleTime(p)}`;
}

function monthly(p: Phrase, n: number, refuse: Refuse): string {
  const days = p.monthdays;
  if (days === undefined) throw refuse('no day of the month', 'say one, such as "on the 1st"');
  if (p.time === undefined) throw refuse('no time of day', 'add one, such as "at 9:00"');
  const late = days.find((d) => d > 28);
  if (late !== undefined) throw refuse(`day ${late} is not in every month`, 'say "on the last day", or give a cron or RRULE');
  if (n === 1 && !days.includes(-1)) return `cron ${cronTime(p)} ${days.join(',')} * *`;
  return `FREQ=MONTHLY;INTERVAL=${n};BYMONTHDAY=${days.join(',')}${rruleTime(p)}`;
}

function yearly(p: Phrase, n: number, refuse: Refuse): string {
  const { months, monthdays: days } = p;
  if (months === undefined || days === undefined) throw refuse('no date in the year', 'say one, such as "on march 3"');
  if (p.time === undefined) throw refuse('no time of day', 'add one, such as "at 9:00"');
  if (n === 1 && !days.includes(-1)) return `cron ${cronTime(p)} ${days.join(',')} ${months.join(',')} *`;
  return `FREQ=YEARLY;INTERVAL=${n};BYMONTH=${months.join(',')};BYMONTHDAY=${days.join(',')}${rruleTime(p)}`;
}

/** Refuses a date or a day of a month that does not exist. */
function checkDates(p: Phrase, refuse: Refuse): void {
  const d = p.date;
  if (d !== undefined && (d.year < 1970 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysInMonth(d.year, d.month))) {
    throw refuse(`${d.year}-${pad(d.month)}-${pad(d.day)} is not a date from 1970 on`);
  }
  for (const m of p.months ?? []) {
    const missing = p.monthdays?.find((day) => day > daysInMonth(2024, m));
    if (missing !== undefined) throw refuse(`${MONTH_NAMES[m]} has no day ${missing}`);
  }
}

/** The form text a phrase stands for, or a refusal saying what is missing or does not fit. */
export function phraseForm(p: Phrase, refuse: Refuse): string {
  checkDates(p, refuse);
  if (p.once || p.date) return once(p, refuse);
  const every = p.every;
  if (every === undefined) throw refuse('no repetition', 'say how often, such as "every day at 9:00"');
  const { n, unit } = every;
  const misfit = (what: string) => refuse(`${what} does not go with "${every.words}"`);
  if (p.weekdays && unit !== 'week') throw misfit('a weekday');
  if (p.monthdays && unit !== 'month' && unit !== 'year') throw misfit('a day of the month');
  if (p.months && unit !== 'year') throw misfit('a month');
  if (unit === 'second' || unit === 'minute' || unit === 'hour') {
    if (p.time) throw misfit(`"at ${p.time.words}" (a duration counts from the creation)`);
    return `every ${n}${DURATION_UNIT[unit]}`;
  }
  if (unit === 'day' && p.time === undefined) return `every ${n * HOURS_IN.day}h`;
  if (unit === 'day') return n === 1 ? `cron ${cronTime(p)} * * *` : `FREQ=DAILY;INTERVAL=${n}${rruleTime(p)}`;
  if (unit === 'week' && p.weekdays) return weekly(p, n, refuse);
  if (unit === 'week' && p.time) throw refuse('no day of the week', 'say one, such as "every week on monday at 9:00"');
  if (unit === 'week') return `every ${n * HOURS_IN.week}h`;
  return unit === 'month' ? monthly(p, n, refuse) : yearly(p, n, refuse);
}

const FORMS: FormParser[] = [parseOnce, parseEvery, parseCron, parseRrule];

/** Parses English text into another form; it is the last form asked, so it refuses what it cannot read. */
export const parseText: FormParser = (text: string, ctx: TriggerContext): Trigger => {
  let form = read.get(text);
  if (form === undefined) {
    form = phraseForm(readPhrase(text), (why, hint) => new RuleError(text, `${why} in "${text}"${hint === undefined ? '' : `; ${hint}`}`));
    read.set(text, form);
  }
  for (const parse of FORMS) {
    let trigger: Trigger | undefined;
    try {
      trigger = parse(form, ctx);
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      throw new RuleError(text, `"${text}" reads as "${form}", and ${err.message}`);
    }
    if (trigger !== undefined) return trigger;
  }
  throw new Error(`"${text}" became "${form}", which no form reads`);
};
