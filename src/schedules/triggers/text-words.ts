/** The words of the English trigger grammar (text-grammar.ts): units, days, months, numbers, times. */

export type Unit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** A time of day. */
export interface TimeOfDay {
  hour: number;
  minute: number;
  second: number;
}

function plural<T>(words: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(words).flatMap(([w, v]) => [[w, v] as const, [`${w}s`, v] as const]));
}

export const UNITS: Record<string, Unit> = plural({
  second: 'second',
  sec: 'second',
  minute: 'minute',
  min: 'minute',
  hour: 'hour',
  hr: 'hour',
  day: 'day',
  week: 'week',
  month: 'month',
  year: 'year',
});

/** Adverbs that say how often on their own. */
export const ADVERBS: Record<string, Unit> = {
  hourly: 'hour',
  daily: 'day',
  weekly: 'week',
  monthly: 'month',
  yearly: 'year',
  annually: 'year',
};

/** Weekdays as cron numbers them: Sunday 0 … Saturday 6. */
export const WEEKDAYS: Record<string, number> = plural({
  sunday: 0,
  sun: 0,
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thu: 4,
  thur: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
});

/** Words for several weekdays at once. */
export const DAY_GROUPS: Record<string, number[]> = plural({ weekday: [1, 2, 3, 4, 5], weekend: [0, 6] });

export const MONTHS: Record<string, number> = {
  january: 1,
  jan: 1,
  february: 2,
  feb: 2,
  march: 3,
  mar: 3,
  april: 4,
  apr: 4,
  may: 5,
  june: 6,
  jun: 6,
  july: 7,
  jul: 7,
  august: 8,
  aug: 8,
  september: 9,
  sep: 9,
  sept: 9,
  october: 10,
  oct: 10,
  november: 11,
  nov: 11,
  december: 12,
  dec: 12,
};

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};

/** A whole count (`15`, `two`), or undefined. */
export function countOf(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  if (/^\d{1,6}$/.test(word)) return Number(word);
  return NUMBER_WORDS[word];
}

/** A day of the month (`1st`, `22nd`, `15`), or undefined; range is checked by the caller. */
export function dayOf(word: string | undefined): number | undefined {
  const m = word === undefined ? null : /^(\d{1,2})(?:st|nd|rd|th)?$/.exec(word);
  return m === null ? undefined : Number(m[1]);
}

const TIME = /^(\d{1,2})(?::(\d\d))?(?::(\d\d))?(am|pm)?$/;
const NAMED_TIMES: Record<string, TimeOfDay> = {
  midnight: { hour: 0, minute: 0, second: 0 },
  noon: { hour: 12, minute: 0, second: 0 },
  midday: { hour: 12, minute: 0, second: 0 },
};

/**
 * A time of day from `word` and, when it is `am` or `pm`, the word after: `9:34am`, `9 pm`, `18:00`,
 * `7:30` (24-hour without am/pm), `noon`. Undefined when `word` is no time; a string saying why when
 * it looks like one but is not (`25:00`, `13pm`).
 */
export function timeOf(word: string, after: string | undefined): { time: TimeOfDay; words: number } | string | undefined {
  const named = NAMED_TIMES[word];
  if (named !== undefined) return { time: named, words: 1 };
  const m = TIME.exec(word);
  if (m === null) return undefined;
  const suffix = m[4] ?? (after === 'am' || after === 'pm' ? after : undefined);
  const words = m[4] === undefined && suffix !== undefined ? 2 : 1;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  const second = Number(m[3] ?? 0);
  const shown = words === 2 ? `${word} ${suffix}` : word;
  if (suffix !== undefined) {
    if (hour < 1 || hour > 12) return `"${shown}" is not a time of day (an hour before am or pm is 1 to 12)`;
    hour = (hour % 12) + (suffix === 'pm' ? 12 : 0);
  } else if (hour > 23) return `"${shown}" is not a time of day (hours are 0 to 23)`;
  if (minute > 59 || second > 59) return `"${shown}" is not a time of day (minutes and seconds are 0 to 59)`;
  return { time: { hour, minute, second }, words };
}
