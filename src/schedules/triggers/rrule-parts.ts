/**
 * The parts of an RFC 5545 RRULE (`FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34`, with or
 * without `RRULE:`), read here rather than by rrule's own parser so that a refusal names the part it
 * refuses and the RFC's restrictions (which parts go with which FREQ) are kept. The start is the
 * subject's creation, so DTSTART and TZID are not parts; nor is rrule's own BYEASTER.
 *
 * One deviation from the RFC, for reminders: a rule that names the hour (BYHOUR) runs at minute and
 * second 0 unless BYMINUTE or BYSECOND say otherwise, and one that names the minute at second 0; the
 * RFC would take the missing parts from DTSTART, the second the schedule was made. A rule that names
 * no time of day still runs at DTSTART's.
 */
import { daysInMonth } from './once.js';
import { BYDAY_CODES, RRULE_FREQS, untilInstant, untilText } from './rrule-values.js';
import { RuleError } from './rule-error.js';

/** rrule's Frequency: YEARLY 0 … SECONDLY 6 (coarse to fine). */
export const YEARLY = 0;
export const MONTHLY = 1;
export const WEEKLY = 2;
export const DAILY = 3;
export const HOURLY = 4;
export const MINUTELY = 5;
export const SECONDLY = 6;

/** The longest COUNT and INTERVAL taken: a counted rule is evaluated from its start each time. */
export const MAX_COUNT = 1000;
export const MAX_INTERVAL = 1000;

/** A BYDAY entry: rrule's weekday (MO 0 … SU 6), and the nth of the month or year when given. */
export interface ByDay {
  weekday: number;
  n?: number;
}

/** A parsed RRULE; the lists are sorted and without repeats. */
export interface RuleParts {
  freq: number;
  interval: number;
  count?: number;
  /** UNTIL as an instant (a floating UNTIL is placed in the context's zone). */
  until?: number;
  bymonth?: number[];
  byweekno?: number[];
  byyearday?: number[];
  bymonthday?: number[];
  byday?: ByDay[];
  byhour?: number[];
  byminute?: number[];
  bysecond?: number[];
  bysetpos?: number[];
  wkst: number;
}

type ListPart = 'BYMONTH' | 'BYWEEKNO' | 'BYYEARDAY' | 'BYMONTHDAY' | 'BYHOUR' | 'BYMINUTE' | 'BYSECOND' | 'BYSETPOS';
/** Each numeric list's range; signed ones also take -max … -1 (counted from the end). */
const LISTS: Record<ListPart, { min: number; max: number; signed: boolean }> = {
  BYMONTH: { min: 1, max: 12, signed: false },
  BYWEEKNO: { min: 1, max: 53, signed: true },
  BYYEARDAY: { min: 1, max: 366, signed: true },
  BYMONTHDAY: { min: 1, max: 31, signed: true },
  BYHOUR: { min: 0, max: 23, signed: false },
  BYMINUTE: { min: 0, max: 59, signed: false },
  BYSECOND: { min: 0, max: 59, signed: false },
  BYSETPOS: { min: 1, max: 366, signed: true },
};
const ORDER = [
  'FREQ',
  'INTERVAL',
  'COUNT',
  'UNTIL',
  'BYMONTH',
  'BYWEEKNO',
  'BYYEARDAY',
  'BYMONTHDAY',
  'BYDAY',
  'BYHOUR',
  'BYMINUTE',
  'BYSECOND',
  'BYSETPOS',
  'WKST',
];
const NOT_PARTS: Record<string, string> = {
  DTSTART: 'the start is when the schedule is made; leave DTSTART out',
  TZID: "the zone is the schedule's own; leave TZID out",
  BYEASTER: 'BYEASTER is not part of RFC 5545',
};

/** Whether `text` is written as RRULE parts. */
export function looksLikeRrule(text: string): boolean {
  return /^(?:rrule:)?[a-z]+=/i.test(text);
}

/** Reads `text` (an RRULE) into its parts; `tz` places a floating UNTIL. Throws RuleError. */
export function parseRuleParts(text: string, tz: string): RuleParts {
  const body = text.replace(/^rrule:/i, '');
  const raw = new Map<string, string>();
  for (const part of body.split(';')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim().toUpperCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .toUpperCase();
    if (eq < 1 || value === '') throw new RuleError(text, `did not understand "${part}" in "${text}": an RRULE part is NAME=VALUE`);
    if (NOT_PARTS[name] !== undefined) throw new RuleError(text, `bad RRULE part "${part}" in "${text}": ${NOT_PARTS[name]}`);
    if (!ORDER.includes(name)) throw new RuleError(text, `unknown RRULE part "${part}" in "${text}"`);
    if (raw.has(name)) throw new RuleError(text, `RRULE part ${name} is given twice in "${text}"`);
    raw.set(name, value);
  }
  const bad = (name: string, why: string) => new RuleError(text, `bad RRULE part "${name}=${raw.get(name)}" in "${text}": ${why}`);
  const freqText = raw.get('FREQ');
  if (freqText === undefined) throw new RuleError(text, `"${text}" has no FREQ`);
  const freq = (RRULE_FREQS as readonly string[]).indexOf(freqText);
  if (freq < 0) throw bad('FREQ', `FREQ is one of ${RRULE_FREQS.join(', ')}`);
  const parts: RuleParts = { freq, interval: 1, wkst: 0 };
  const int = (name: string, max: number): number | undefined => {
    const v = raw.get(name);
    if (v === undefined) return undefined;
    if (!/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > max) throw bad(name, `${name} is a whole number from 1 to ${max}`);
    return Number(v);
  };
  parts.interval = int('INTERVAL', MAX_INTERVAL) ?? 1;
  parts.count = int('COUNT', MAX_COUNT);
  const until = raw.get('UNTIL');
  if (until !== undefined) {
    const at = untilInstant(until, tz);
    if (typeof at === 'string') throw bad('UNTIL', at);
    parts.until = at;
  }
  for (const name of Object.keys(LISTS) as ListPart[]) {
    const list = numbers(raw.get(name), LISTS[name]);
    if (typeof list === 'string') throw bad(name, list);
    if (list !== undefined) parts[name.toLowerCase() as Lowercase<ListPart>] = list;
  }
  const byday = raw.get('BYDAY');
  if (byday !== undefined) parts.byday = weekdays(byday, (why) => bad('BYDAY', why));
  const wkst = raw.get('WKST');
  if (wkst !== undefined) {
    parts.wkst = BYDAY_CODES.indexOf(wkst as (typeof BYDAY_CODES)[number]);
    if (parts.wkst < 0) throw bad('WKST', `WKST is one of ${BYDAY_CODES.join(', ')}`);
  }
  checkCombination(text, parts, bad);
  fillTimeOfDay(parts);
  return parts;
}

/** A comma-separated list of whole numbers within `range`, sorted; a message when it is not. */
function numbers(value: string | undefined, range: (typeof LISTS)[ListPart]): number[] | string | undefined {
  if (value === undefined) return undefined;
  const out = new Set<number>();
  for (const item of value.split(',')) {
    const n = Number(item);
    const ok = /^[+-]?\d{1,3}$/.test(item) && (range.signed ? Math.abs(n) >= range.min : /^\d/.test(item) && n >= range.min);
    if (!ok || Math.abs(n) > range.max) {
      return `"${item}" is not ${range.min}–${range.max}${range.signed ? ` or -${range.max}–-1` : ''}`;
    }
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** BYDAY entries such as TU, 2MO or -1FR, sorted by weekday. */
function weekdays(value: string, bad: (why: string) => RuleError): ByDay[] {
  const out = new Map<string, ByDay>();
  for (const item of value.split(',')) {
    const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
    const n = m?.[1] === undefined ? undefined : Number(m[1]);
    if (m === null || (n !== undefined && (n === 0 || Math.abs(n) > 53))) {
      throw bad(`"${item}" is not a weekday such as TU, 2MO or -1FR`);
    }
    const day: ByDay = { weekday: BYDAY_CODES.indexOf(m[2] as (typeof BYDAY_CODES)[number]) };
    if (n !== undefined) day.n = n;
    out.set(`${n ?? ''}${m[2]}`, day);
  }
  return [...out.values()].sort((a, b) => a.weekday - b.weekday || (a.n ?? 0) - (b.n ?? 0));
}

/** The RFC's rules on which parts go together, and a month and day no year has. */
function checkCombination(text: string, p: RuleParts, bad: (name: string, why: string) => RuleError): void {
  const freq = RRULE_FREQS[p.freq];
  if (p.count !== undefined && p.until !== undefined) throw new RuleError(text, `"${text}" has both COUNT and UNTIL; give one`);
  if (p.byday?.some((d) => d.n !== undefined) && (p.freq > MONTHLY || (p.freq === YEARLY && p.byweekno))) {
    throw bad('BYDAY', `a numbered weekday (such as 2MO) is only for FREQ=MONTHLY, or YEARLY without BYWEEKNO`);
  }
  if (p.bymonthday && p.freq === WEEKLY) throw bad('BYMONTHDAY', `BYMONTHDAY does not go with FREQ=${freq}`);
  if (p.byyearday && (p.freq === DAILY || p.freq === WEEKLY || p.freq === MONTHLY))
    throw bad('BYYEARDAY', `BYYEARDAY does not go with FREQ=${freq}`);
  if (p.byweekno && p.freq !== YEARLY) throw bad('BYWEEKNO', `BYWEEKNO is only for FREQ=YEARLY`);
  // rrule steps these off their grid (a carried hour or minute is then repeated until BYHOUR or
  // BYMINUTE matches), giving wrong times or none; the same times are written with a coarser FREQ.
  if (p.freq === MINUTELY && p.byhour)
    throw bad('BYHOUR', 'FREQ=MINUTELY with BYHOUR is not taken; write FREQ=HOURLY;BYHOUR=…;BYMINUTE=… (e.g. BYMINUTE=0,15,30,45)');
  if (p.freq === SECONDLY && (p.byhour || p.byminute)) {
    throw bad(
      p.byhour ? 'BYHOUR' : 'BYMINUTE',
      'FREQ=SECONDLY with BYHOUR or BYMINUTE is not taken; write FREQ=MINUTELY or HOURLY with BYSECOND',
    );
  }
  const others = [p.bymonth, p.byweekno, p.byyearday, p.bymonthday, p.byday, p.byhour, p.byminute, p.bysecond];
  if (p.bysetpos && others.every((o) => o === undefined)) throw bad('BYSETPOS', 'BYSETPOS needs another BY part to pick from');
  const dayParts = [
    ['BYMONTH', p.bymonth],
    ['BYMONTHDAY', p.bymonthday],
    ['BYYEARDAY', p.byyearday],
  ].flatMap(([name, values]) => (values === undefined ? [] : [`${name}=${(values as number[]).join(',')}`]));
  if (dayParts.length > 1 && !someDayPasses(p)) {
    throw new RuleError(text, `no day of any year has ${dayParts.join(' and ')} in "${text}", so it never runs`);
  }
}

/** Whether a day of a common or a leap year passes BYMONTH, BYMONTHDAY and BYYEARDAY together. */
function someDayPasses(p: RuleParts): boolean {
  for (const year of [2023, 2024]) {
    const length = year === 2024 ? 366 : 365;
    for (let yearday = 1; yearday <= length; yearday++) {
      const date = new Date(Date.UTC(year, 0, yearday));
      const month = date.getUTCMonth() + 1;
      const day = date.getUTCDate();
      const monthLength = daysInMonth(year, month);
      if (p.bymonth && !p.bymonth.includes(month)) continue;
      if (p.bymonthday && !p.bymonthday.some((d) => d === day || d === day - monthLength - 1)) continue;
      if (p.byyearday && !p.byyearday.some((d) => d === yearday || d === yearday - length - 1)) continue;
      return true;
    }
  }
  return false;
}

/** A named hour (minute) means minute and second (second) 0 where the RFC would take DTSTART's. */
function fillTimeOfDay(p: RuleParts): void {
  if (p.byhour && p.freq < MINUTELY) p.byminute ??= [0];
  if ((p.byhour || p.byminute) && p.freq < SECONDLY) p.bysecond ??= [0];
}

/** The canonical text: the parts in a fixed order, INTERVAL=1 and WKST=MO left out, UNTIL in UTC. */
export function canonicalRrule(p: RuleParts): string {
  const out = [`FREQ=${RRULE_FREQS[p.freq]}`];
  if (p.interval !== 1) out.push(`INTERVAL=${p.interval}`);
  if (p.count !== undefined) out.push(`COUNT=${p.count}`);
  if (p.until !== undefined) out.push(`UNTIL=${untilText(p.until)}`);
  const list = (name: string, values: number[] | undefined) => values && out.push(`${name}=${values.join(',')}`);
  list('BYMONTH', p.bymonth);
  list('BYWEEKNO', p.byweekno);
  list('BYYEARDAY', p.byyearday);
  list('BYMONTHDAY', p.bymonthday);
  if (p.byday) out.push(`BYDAY=${p.byday.map((d) => `${d.n ?? ''}${BYDAY_CODES[d.weekday]}`).join(',')}`);
  list('BYHOUR', p.byhour);
  list('BYMINUTE', p.byminute);
  list('BYSECOND', p.bysecond);
  list('BYSETPOS', p.bysetpos);
  if (p.wkst !== 0) out.push(`WKST=${BYDAY_CODES[p.wkst]}`);
  return out.join(';');
}
