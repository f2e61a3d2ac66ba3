/**
 * The English trigger grammar, read into a Phrase (text.ts turns that into a form). A phrase is a
 * sequence of clauses in any order:
 *   every|each [other|N] <unit>         every 2 hours, every other day, each week
 *   every|each [other|N] <weekdays>     every monday and thursday, every other tuesday, every weekday
 *   hourly|daily|weekly|monthly|yearly|annually
 *   on <weekdays> | on weekdays|weekends
 *   on [the] <days of month> [of every|each [other|N] month | of <month>]   on the 1st and 15th of every month
 *   on <month> <day> [<year>] | on <day> <month> [<year>] | on <YYYY-MM-DD>
 *   at <time>                            at 9:34am, at 18:00, at 7, at noon, at midnight
 *   once
 * Words are case-insensitive, commas count as "and", and anything else is refused by name.
 */
import { RuleError } from './rule-error.js';
import { ADVERBS, countOf, DAY_GROUPS, dayOf, MONTHS, type TimeOfDay, timeOf, UNITS, type Unit, WEEKDAYS } from './text-words.js';

/** What a phrase said; text.ts checks the combination. */
export interface Phrase {
  once?: boolean;
  every?: { n: number; unit: Unit; words: string };
  /** Cron weekday numbers, Sunday 0. */
  weekdays?: number[];
  /** Days of the month; -1 is the last. */
  monthdays?: number[];
  months?: number[];
  date?: { year: number; month: number; day: number };
  time?: TimeOfDay & { words: string };
}

/** Lower case, a.m./p.m. as am/pm, commas as words of their own. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\b([ap])\.m\.?/g, '$1m')
    .replace(/,/g, ' , ')
    .split(/\s+/)
    .filter((w) => w !== '');
}

class Reader {
  private i = 0;
  readonly phrase: Phrase = {};

  constructor(
    readonly rule: string,
    private readonly words: string[],
  ) {}

  peek(k = 0): string | undefined {
    return this.words[this.i + k];
  }

  next(): string | undefined {
    return this.words[this.i++];
  }

  /** The words from `from` to here, for messages. */
  since(from: number): string {
    return this.words.slice(from, this.i).join(' ');
  }

  get at(): number {
    return this.i;
  }

  /** A refusal naming the word not understood, or the end reached too early. */
  fail(word: string | undefined): RuleError {
    if (word === undefined)
      return new RuleError(this.rule, `"${this.rule}" stops too early after "${this.words.slice(0, this.i).join(' ')}"`);
    return new RuleError(this.rule, `did not understand "${word}" in "${this.rule}"`);
  }

  refuse(why: string): RuleError {
    return new RuleError(this.rule, `${why} in "${this.rule}"`);
  }

  /** Takes `and` or `,` when the word after it passes `test`. */
  and(test: (w: string | undefined) => boolean): boolean {
    const w = this.peek();
    if ((w === 'and' || w === ',') && test(this.peek(1))) {
      this.next();
      return true;
    }
    return false;
  }
}

function setEvery(r: Reader, n: number, unit: Unit, from: number): void {
  if (r.phrase.every !== undefined) throw r.refuse(`"${r.since(from)}" says how often a second time`);
  if (n < 1) throw r.refuse(`"${r.since(from)}" repeats every 0`);
  r.phrase.every = { n, unit, words: r.since(from) };
}

function setWeekdays(r: Reader, days: number[]): void {
  if (r.phrase.weekdays !== undefined) throw r.refuse('the weekdays are given twice');
  r.phrase.weekdays = [...new Set(days)].sort((a, b) => a - b);
}

function setDate(r: Reader, year: number, month: number, day: number): void {
  if (r.phrase.date !== undefined) throw r.refuse('the date is given twice');
  r.phrase.date = { year, month, day };
}

function setMonthdays(r: Reader, days: number[]): void {
  if (r.phrase.monthdays !== undefined) throw r.refuse('the days of the month are given twice');
  r.phrase.monthdays = [...new Set(days)].sort((a, b) => (a < 0 ? 32 : a) - (b < 0 ? 32 : b));
}

/** `monday and thursday`, `mon, wed and fri`. */
function weekdayList(r: Reader): number[] {
  const days = [WEEKDAYS[r.next() as string] as number];
  while (r.and((w) => w !== undefined && WEEKDAYS[w] !== undefined)) days.push(WEEKDAYS[r.next() as string] as number);
  return days;
}

/** After `every`: [other|N] then a unit, weekdays, or weekday/weekend. */
function every(r: Reader, from: number): void {
  let n = 1;
  if (r.peek() === 'other') {
    r.next();
    n = 2;
  } else if (countOf(r.peek()) !== undefined) n = countOf(r.next()) as number;
  const w = r.peek();
  if (w !== undefined && UNITS[w] !== undefined) {
    r.next();
    setEvery(r, n, UNITS[w], from);
    return;
  }
  if (w !== undefined && DAY_GROUPS[w] !== undefined) {
    r.next();
    if (n !== 1) throw r.refuse(`"${r.since(from)}" is ambiguous; say "every other week on weekdays" or give a cron or RRULE`);
    setEvery(r, 1, 'week', from);
    setWeekdays(r, DAY_GROUPS[w]);
    return;
  }
  if (w !== undefined && WEEKDAYS[w] !== undefined) {
    const days = weekdayList(r);
    setEvery(r, n, 'week', from);
    setWeekdays(r, days);
    return;
  }
  throw r.fail(r.next());
}

/** Days of the month: `1st`, `the 15th`, `last day`, joined by and. */
function monthdayList(r: Reader): number[] {
  const days: number[] = [];
  do {
    if (r.peek() === 'the') r.next();
    const w = r.next();
    const day = w === 'last' ? -1 : dayOf(w);
    if (day === undefined) throw r.fail(w);
    if (day < -1 || day === 0 || day > 31) throw r.refuse(`"${w}" is not a day of the month`);
    if (r.peek() === 'day') r.next();
    days.push(day);
  } while (r.and((w) => w === 'the' || w === 'last' || dayOf(w) !== undefined));
  return days;
}

/** After days of the month: `of every [other|N] month`, `of <month>`, or nothing. */
function ofMonth(r: Reader): void {
  if (r.peek() !== 'of') return;
  r.next();
  const from = r.at;
  const w = r.next();
  if (w === 'every' || w === 'each') {
    const n = r.peek() === 'other' ? 2 : countOf(r.peek());
    if (n !== undefined) r.next();
    const unit = r.next();
    if (unit !== 'month' && unit !== 'months') throw r.fail(unit);
    setEvery(r, n ?? 1, 'month', from);
    return;
  }
  if (w !== undefined && MONTHS[w] !== undefined) {
    if (r.phrase.months !== undefined) throw r.refuse('the month is given twice');
    r.phrase.months = [MONTHS[w]];
    while (r.and((x) => x !== undefined && MONTHS[x] !== undefined)) r.phrase.months.push(MONTHS[r.next() as string] as number);
    return;
  }
  throw r.fail(w);
}

/** `<month> <day> [<year>]` or `<day> <month> [<year>]`, `on` already read. */
function calendarDate(r: Reader): void {
  let month = MONTHS[r.peek() as string];
  if (month !== undefined) r.next();
  const dayWord = r.next();
  const day = dayOf(dayWord);
  if (day === undefined) throw r.fail(dayWord);
  if (month === undefined) {
    const w = r.next();
    month = w === undefined ? undefined : MONTHS[w];
    if (month === undefined) throw r.fail(w);
  }
  if (r.peek() === ',' && /^\d{4}$/.test(r.peek(1) ?? '')) r.next();
  const year = /^\d{4}$/.test(r.peek() ?? '') ? Number(r.next()) : undefined;
  if (year !== undefined) setDate(r, year, month, day);
  else {
    if (r.phrase.months !== undefined) throw r.refuse('the month is given twice');
    r.phrase.months = [month];
    setMonthdays(r, [day]);
  }
}

/** After `on`. */
function on(r: Reader): void {
  const w = r.peek();
  const iso = w === undefined ? null : /^(\d{4})-(\d\d)-(\d\d)$/.exec(w);
  if (iso !== null) {
    r.next();
    setDate(r, Number(iso[1]), Number(iso[2]), Number(iso[3]));
  } else if (w !== undefined && DAY_GROUPS[w] !== undefined) setWeekdays(r, DAY_GROUPS[r.next() as string] as number[]);
  else if (w !== undefined && WEEKDAYS[w] !== undefined) setWeekdays(r, weekdayList(r));
  else if (w === 'the' || w === 'last' || (dayOf(w) !== undefined && MONTHS[r.peek(1) as string] === undefined)) {
    setMonthdays(r, monthdayList(r));
    ofMonth(r);
  } else if (w !== undefined && (MONTHS[w] !== undefined || dayOf(w) !== undefined)) calendarDate(r);
  else throw r.fail(r.next());
}

function at(r: Reader): void {
  const w = r.next();
  const read = w === undefined ? undefined : timeOf(w, r.peek());
  if (read === undefined) throw r.fail(w);
  if (typeof read === 'string') throw r.refuse(read);
  if (read.words === 2) r.next();
  if (r.phrase.time !== undefined) throw r.refuse(`a second time of day, "${w}"; give one`);
  r.phrase.time = { ...read.time, words: w as string };
}

/** Reads English `text` into a Phrase; RuleError names the first word not understood. */
export function readPhrase(text: string): Phrase {
  const r = new Reader(text, words(text));
  for (let w = r.peek(); w !== undefined; w = r.peek()) {
    const from = r.at;
    r.next();
    const adverb = ADVERBS[w];
    if (w === 'every' || w === 'each') every(r, from);
    else if (adverb !== undefined) setEvery(r, 1, adverb, from);
    else if (w === 'once') r.phrase.once = true;
    else if (w === 'on') on(r);
    else if (w === 'the') {
      setMonthdays(r, monthdayList(r));
      ofMonth(r);
    } else if (w === 'at') at(r);
    else throw r.fail(w);
  }
  return r.phrase;
}
