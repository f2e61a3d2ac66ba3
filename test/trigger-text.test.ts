/**
 * English triggers: each phrase becomes a form whose canonical text is the trigger's, and a phrase
 * that cannot be read is refused by naming the words not understood, never guessed.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseTrigger, RuleError, type TriggerContext } from '../src/schedules/triggers/index.js';

/** Tuesday 2027-01-05, 13:17 in Berlin. */
const START = Date.parse('2027-01-05T12:17:00Z');
const ctx: TriggerContext = { tz: 'Europe/Berlin', start: START };
const wall = (iso: string) => DateTime.fromISO(iso, { zone: ctx.tz }).toMillis();

function message(text: string): string {
  try {
    parseTrigger(text, ctx);
  } catch (err) {
    if (err instanceof RuleError) return err.message;
    throw err;
  }
  throw new Error(`"${text}" was not refused`);
}

describe('English phrases', () => {
  it.each([
    ['every other tuesday at 9:34am', 'rrule', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34;BYSECOND=0'],
    ['every day at 08:00', 'cron', 'cron 0 8 * * *'],
    ['every weekday at 7:30', 'cron', 'cron 30 7 * * 1-5'],
    ['on the 1st of every month at midnight', 'cron', 'cron 0 0 1 * *'],
    ['every 2 hours', 'every', 'every 2h'],
    ['every monday and thursday at 18:00', 'cron', 'cron 0 18 * * 1,4'],
  ])('"%s" is %s %s', (text, form, canonical) => {
    const t = parseTrigger(text, ctx);
    expect(t.form).toBe(form);
    expect(t.canonical).toBe(canonical);
  });

  it.each([
    ['every hour', 'every 1h'],
    ['every 15 minutes', 'every 15m'],
    ['every 90 seconds', 'every 1m30s'],
    ['every day at noon', 'cron 0 12 * * *'],
    ['daily at 6pm', 'cron 0 18 * * *'],
    ['every day at 9 pm', 'cron 0 21 * * *'],
    ['every day at 6:30:15 a.m.', 'cron 15 30 6 * * *'],
    ['every weekend at 10:00', 'cron 0 10 * * 0,6'],
    ['every month on the 15th at 9:00', 'cron 0 9 15 * *'],
    ['on the 1st and 15th of each month at 9', 'cron 0 9 1,15 * *'],
    ['every 3 days', 'every 72h'],
    ['every two weeks', 'every 336h'],
    ['every other day at 7am', 'FREQ=DAILY;INTERVAL=2;BYHOUR=7;BYMINUTE=0;BYSECOND=0'],
    ['every friday at 5pm', 'cron 0 17 * * 5'],
    ['every mon, wed and fri at 12:30', 'cron 30 12 * * 1,3,5'],
    ['every other week on sunday and wednesday at 8', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=WE,SU;BYHOUR=8;BYMINUTE=0;BYSECOND=0'],
    ['on the last day of every month at 9', 'FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0;BYSECOND=0'],
    ['every 3 months on the 1st at 9', 'FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0'],
    ['every year on march 3 at 10:00', 'cron 0 10 3 3 *'],
    ['yearly on 3 march at 10:00', 'cron 0 10 3 3 *'],
    ['every year on the 29th of february at 10:00', 'cron 0 10 29 2 *'],
    ['once on 2027-01-31 at 04:00', 'at 2027-01-31T03:00:00Z'],
    ['on 2027-01-31 at 04:00', 'at 2027-01-31T03:00:00Z'],
    ['on january 31, 2027 at 4am', 'at 2027-01-31T03:00:00Z'],
  ])('"%s" is %s', (text, canonical) => {
    expect(parseTrigger(text, ctx).canonical).toBe(canonical);
  });

  it('ignores case and extra spaces', () => {
    expect(parseTrigger('  Every  Other TUESDAY   at 9:34AM ', ctx).canonical).toBe(
      parseTrigger('every other tuesday at 9:34am', ctx).canonical,
    );
  });

  it('runs as the form it reads as', () => {
    for (const text of ['every other tuesday at 9:34am', 'every weekday at 7:30', 'on the 1st of every month at midnight']) {
      const t = parseTrigger(text, ctx);
      const form = parseTrigger(t.canonical, ctx);
      let a: number | undefined = START;
      let b: number | undefined = START;
      for (let i = 0; i < 5; i++) {
        a = t.next(a as number);
        b = form.next(b as number);
        expect(a).toBe(b);
      }
    }
    expect(parseTrigger('on the 1st of every month at midnight', ctx).next(START)).toBe(wall('2027-02-01T00:00'));
    expect(parseTrigger('every other tuesday at 9:34am', ctx).next(START)).toBe(wall('2027-01-19T09:34'));
  });

  it('counts "every 2 hours" from the creation, not from the hour', () => {
    const t = parseTrigger('every 2 hours', ctx);
    expect(t.next(START)).toBe(wall('2027-01-05T15:17'));
    expect(t.next(wall('2027-01-05T15:17'))).toBe(wall('2027-01-05T17:17'));
  });
});

describe('English that is refused', () => {
  it('names the word not understood', () => {
    expect(message('every fortnightly at 9')).toBe('did not understand "fortnightly" in "every fortnightly at 9"');
    expect(message('every day at 9:00 and 17:00')).toBe('did not understand "and" in "every day at 9:00 and 17:00"');
    expect(message('every tuesday at 9 please')).toBe('did not understand "please" in "every tuesday at 9 please"');
    expect(message('every')).toMatch(/"every" stops too early after "every"/);
  });

  it('refuses times and dates that do not exist', () => {
    expect(message('every day at 25:00')).toMatch(/^"25:00" is not a time of day \(hours are 0 to 23\) in "every day at 25:00"/);
    expect(message('at 25:00')).toMatch(/"25:00" is not a time of day/);
    expect(message('every day at 13pm')).toMatch(/"13pm" is not a time of day/);
    expect(message('on the 31st of february')).toMatch(/february has no day 31/);
    expect(message('every year on the 31st of february at 9')).toMatch(/february has no day 31/);
    expect(message('on 2027-02-29 at 9:00')).toMatch(/2027-02-29 is not a date/);
  });

  it('refuses what is left unsaid or ambiguous instead of guessing', () => {
    expect(message('every friday')).toMatch(/^no time of day in "every friday"; add one/);
    expect(message('at 9:00')).toMatch(/^no repetition in "at 9:00"; say how often/);
    expect(message('on march 3 at 10:00')).toMatch(/^no repetition/);
    expect(message('every month at 9:00')).toMatch(/^no day of the month/);
    expect(message('every week at 9:00')).toMatch(/^no day of the week/);
    expect(message('every month on the 31st at 9')).toMatch(/^day 31 is not in every month .*; say "on the last day"/);
    expect(message('every 2 hours at 9:00')).toMatch(/"at 9:00" \(a duration counts from the creation\) does not go with "every 2 hours"/);
    expect(message('every other weekday at 9')).toMatch(/"every other weekday" is ambiguous/);
    expect(message('every day daily at 9')).toMatch(/"daily" says how often a second time/);
    expect(message('every day at 9 at 10')).toMatch(/a second time of day/);
    expect(message('every monday on the 1st at 9')).toMatch(/a day of the month does not go with "every monday"/);
  });
});
