/**
 * RRULE evaluation: restarting a rule at the period that holds the cursor, and moving it whole
 * 400-year cycles ahead, give what rrule gives walking from DTSTART; rare rules still find their
 * occurrences; rules that can never run are refused rather than walked for ever.
 */
import { DateTime } from 'luxon';
import rrulePkg from 'rrule';
import { describe, expect, it } from 'vitest';
import { parseTrigger, RuleError } from '../src/schedules/triggers/index.js';
import { explicitParts, nextFloating, rruleOptions } from '../src/schedules/triggers/rrule-floating.js';
import { parseRuleParts } from '../src/schedules/triggers/rrule-parts.js';

const { RRule } = rrulePkg;
const DAY = 86_400_000;

/** What rrule itself gives, walking from DTSTART (floating UTC). */
function plainNext(rule: string, dtstart: number, cursor: number): number | undefined {
  const parts = explicitParts(parseRuleParts(rule, 'UTC'), dtstart);
  const found = new RRule({ ...rruleOptions(parts), dtstart: new Date(dtstart), count: parts.count ?? null }, true).after(
    new Date(cursor),
    false,
  );
  return found?.getTime();
}

describe('evaluating from the period that holds the cursor', () => {
  const rules = [
    'FREQ=DAILY;INTERVAL=3;BYHOUR=9,21',
    'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SA;BYHOUR=9;BYMINUTE=34',
    'FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,MO',
    'FREQ=WEEKLY;INTERVAL=2',
    'FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;BYHOUR=18',
    'FREQ=MONTHLY;BYMONTHDAY=31',
    'FREQ=MONTHLY;INTERVAL=5',
    'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17',
    'FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29',
    'FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO',
    'FREQ=YEARLY;BYYEARDAY=-1,100',
    'FREQ=HOURLY;INTERVAL=5;BYMINUTE=10',
    'FREQ=MINUTELY;INTERVAL=47',
    'FREQ=MINUTELY;INTERVAL=15;BYDAY=MO',
    'FREQ=MINUTELY;INTERVAL=7;BYMINUTE=0,30',
    'FREQ=HOURLY;INTERVAL=5;BYDAY=SA,SU;BYMINUTE=10',
    'FREQ=SECONDLY;INTERVAL=997;BYMONTH=2',
    'FREQ=DAILY;COUNT=40;BYHOUR=6',
  ];
  // A Tuesday, a leap day's last second, a Sunday, a Thursday.
  const starts = ['2027-01-05T13:00:17Z', '2028-02-29T23:59:59Z', '2029-07-01T06:45:00Z', '2031-01-02T00:00:00Z'].map(Date.parse);
  it.each(rules)('%s', (rule) => {
    for (const dtstart of starts) {
      for (const days of [0, 1, 13, 40, 200, 800, 2400]) {
        const cursor = dtstart + days * DAY + 4321_000;
        const parts = explicitParts(parseRuleParts(rule, 'UTC'), dtstart);
        const mine = nextFloating({ parts, options: rruleOptions(parts), dtstart, count: parts.count }, cursor);
        expect(mine, `from ${new Date(dtstart).toISOString()} after ${new Date(cursor).toISOString()}`).toBe(
          plainNext(rule, dtstart, cursor),
        );
      }
    }
  });
});

describe('rare rules', () => {
  it('finds every Friday the 13th, as counted day by day', () => {
    const zone = 'Europe/Berlin';
    const start = Date.parse('2027-01-01T00:00:00Z');
    const t = parseTrigger('FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;BYHOUR=8', { tz: zone, start });
    const expected: number[] = [];
    for (let d = DateTime.fromMillis(start, { zone }).startOf('day'); expected.length < 4; d = d.plus({ days: 1 })) {
      if (d.day === 13 && d.weekday === 5) expected.push(d.set({ hour: 8 }).toMillis());
    }
    let at: number | undefined = start;
    for (const e of expected) {
      at = t.next(at as number);
      expect(at).toBe(e);
    }
  });

  it('finds leap days, and occurrences decades on', () => {
    const t = parseTrigger('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=12', { tz: 'UTC', start: Date.parse('2027-01-01T00:00:00Z') });
    expect(t.next(Date.parse('2027-01-01T00:00:00Z'))).toBe(Date.parse('2028-02-29T12:00:00Z'));
    // 2100 is not a leap year.
    expect(t.next(Date.parse('2097-01-01T00:00:00Z'))).toBe(Date.parse('2104-02-29T12:00:00Z'));
  });
});

describe('rules that never run', () => {
  const start = Date.parse('2027-01-05T12:00:00Z'); // a Tuesday, 12:00 UTC
  const refused = (rule: string) => {
    try {
      parseTrigger(rule, { tz: 'UTC', start });
    } catch (err) {
      if (err instanceof RuleError) return err.message;
      throw err;
    }
    return 'accepted';
  };

  it('are refused before rrule would step for ever or for centuries', () => {
    expect(refused('FREQ=HOURLY;INTERVAL=24;BYHOUR=5')).toMatch(
      /never runs from its start: with INTERVAL=24 from 12:00:00 it never reaches the times of day/,
    );
    expect(refused('FREQ=MINUTELY;INTERVAL=60;BYMINUTE=30')).toMatch(/never reaches the times of day/);
    // rrule would step these off their grid, or for ever.
    expect(refused('FREQ=MINUTELY;INTERVAL=150;BYHOUR=3')).toMatch(/"BYHOUR=3".*FREQ=MINUTELY with BYHOUR is not taken; write FREQ=HOURLY/);
    expect(refused('FREQ=SECONDLY;INTERVAL=30;BYMINUTE=5')).toMatch(/FREQ=SECONDLY with BYHOUR or BYMINUTE is not taken/);
    expect(refused('FREQ=DAILY;INTERVAL=7;BYDAY=MO')).toMatch(/INTERVAL=7 days from a Tue it never reaches the weekdays/);
    expect(refused('FREQ=MONTHLY;INTERVAL=12;BYMONTH=3')).toMatch(/never reaches the months/);
    expect(refused('FREQ=DAILY;BYHOUR=9;BYSETPOS=2')).toMatch(/BYSETPOS picks beyond the 1 time/);
    expect(refused('FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29')).toMatch(/no occurrence within 400 years/);
  });

  it('while the same rules run from a start that reaches them', () => {
    expect(refused('FREQ=HOURLY;INTERVAL=24;BYHOUR=12')).toBe('accepted');
    expect(refused('FREQ=DAILY;INTERVAL=7;BYDAY=TU')).toBe('accepted');
    expect(refused('FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9')).toMatch(/no occurrence/);
    const leap = parseTrigger('FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29', { tz: 'UTC', start: Date.parse('2028-01-05T12:00:00Z') });
    expect(leap.next(Date.parse('2028-03-01T00:00:00Z'))).toBe(Date.parse('2032-02-29T12:00:00Z'));
  });
});
