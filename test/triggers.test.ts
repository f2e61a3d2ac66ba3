/**
 * Triggers of subject schedules, form by form: occurrences (expected instants worked out with luxon
 * or by hand, not by the code under test), canonical text and its round trip, COUNT and UNTIL, and
 * refusals that name the part not understood.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { checkZone, parseTrigger, RuleError, type Trigger, type TriggerContext } from '../src/schedules/triggers/index.js';

const BERLIN = 'Europe/Berlin';
/** Tuesday 2027-01-05, 13:00 in Berlin. */
const START = Date.parse('2027-01-05T12:00:00Z');
const ctx: TriggerContext = { tz: BERLIN, start: START };

/** Epoch ms of a wall time in a zone, by luxon (only for times away from transitions). */
const wall = (iso: string, zone = BERLIN) => DateTime.fromISO(iso, { zone }).toMillis();

/** The first `n` occurrences strictly after `after`. */
function occurrences(t: Trigger, after: number, n = 3): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  let at: number | undefined = after;
  for (let i = 0; i < n && at !== undefined; i++) {
    at = t.next(at);
    out.push(at);
  }
  return out;
}

/** The RuleError `fn` throws. */
function refusal(fn: () => unknown): RuleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleError) return err;
    throw err;
  }
  throw new Error('no RuleError was thrown');
}

describe('once', () => {
  it('runs at an instant given with Z or an offset, and then no more', () => {
    const t = parseTrigger('at 2027-01-31T04:00:00Z', ctx);
    expect(t.form).toBe('once');
    expect(t.canonical).toBe('at 2027-01-31T04:00:00Z');
    expect(occurrences(t, START)).toEqual([Date.UTC(2027, 0, 31, 4), undefined]);
    expect(parseTrigger('at 2027-01-31T05:30:00+01:30', ctx).canonical).toBe('at 2027-01-31T04:00:00Z');
  });

  it('reads a time without zone as a wall time in the context zone', () => {
    expect(parseTrigger('at 2027-01-31T04:00', ctx).next(START)).toBe(wall('2027-01-31T04:00'));
    expect(parseTrigger('at 2027-01-31 04:00', ctx).canonical).toBe('at 2027-01-31T03:00:00Z');
    expect(parseTrigger('at 2027-01-31 04:00', { tz: 'America/New_York', start: START }).canonical).toBe('at 2027-01-31T09:00:00Z');
  });

  it('has no next occurrence once its instant has passed', () => {
    const t = parseTrigger('at 2026-12-31T23:00:00Z', ctx);
    expect(t.next(START)).toBeUndefined();
    expect(t.next(Date.UTC(2026, 11, 31, 23))).toBeUndefined();
    expect(t.next(Date.UTC(2026, 11, 31, 22, 59, 59, 999))).toBe(Date.UTC(2026, 11, 31, 23));
  });

  it('refuses a date that does not exist, naming it', () => {
    expect(refusal(() => parseTrigger('at 2027-02-29 04:00', ctx)).message).toMatch(
      /day 29 is not a day of that month in "2027-02-29 04:00"/,
    );
    expect(refusal(() => parseTrigger('at 2027-01-31T24:00', ctx)).message).toMatch(/hour 24/);
  });
});

describe('every', () => {
  it('runs at start + k·interval, counted from the start, not the clock', () => {
    const t = parseTrigger('every 1h30m', ctx);
    expect(t.form).toBe('every');
    expect(t.canonical).toBe('every 1h30m');
    const minute = 60_000;
    expect(occurrences(t, START + 10 * minute)).toEqual([START + 90 * minute, START + 180 * minute, START + 270 * minute]);
    expect(t.next(START - 5 * minute)).toBe(START + 90 * minute);
    expect(t.next(START + 90 * minute)).toBe(START + 180 * minute);
  });

  it('takes a bare Go duration and writes the shortest spelling', () => {
    expect(parseTrigger('30s', ctx).canonical).toBe('every 30s');
    expect(parseTrigger('every 90m', ctx).canonical).toBe('every 1h30m');
  });

  it('refuses an interval under one second', () => {
    expect(refusal(() => parseTrigger('every 500ms', ctx)).message).toMatch(/"every 500ms" is shorter than the shortest interval, 1s/);
  });
});

describe('cron', () => {
  it('runs on the wall clock of the zone', () => {
    const t = parseTrigger('30 7 * * 1-5', { tz: BERLIN, start: START });
    expect(t.form).toBe('cron');
    // Friday 8 January, noon UTC: next Monday, Tuesday, Wednesday.
    expect(occurrences(t, Date.parse('2027-01-08T12:00:00Z'))).toEqual([
      wall('2027-01-11T07:30'),
      wall('2027-01-12T07:30'),
      wall('2027-01-13T07:30'),
    ]);
    const ny = parseTrigger('30 7 * * 1-5', { tz: 'America/New_York', start: START });
    // Noon UTC is 07:00 in New York: that Friday's 07:30 is still to come.
    expect(ny.next(Date.parse('2027-01-08T12:00:00Z'))).toBe(wall('2027-01-08T07:30', 'America/New_York'));
  });

  it('takes six fields, seconds first', () => {
    const t = parseTrigger('cron 15 30 7 * * *', ctx);
    expect(t.canonical).toBe('cron 15 30 7 * * *');
    expect(t.next(START)).toBe(wall('2027-01-06T07:30:15'));
  });

  it('writes names as numbers and drops a zero seconds field in its canonical text', () => {
    expect(parseTrigger('0 8 * * MON-FRI', ctx).canonical).toBe('cron 0 8 * * 1-5');
    expect(parseTrigger('cron 0 0 8 * jan sun', ctx).canonical).toBe('cron 0 8 * 1 0');
  });

  it('refuses a bad field by name, and a cron that never runs', () => {
    expect(refusal(() => parseTrigger('61 * * * *', ctx)).message).toMatch(/^bad cron field minute "61" in "61 \* \* \* \*": .*0-59/);
    expect(refusal(() => parseTrigger('cron 0 8 * * funday', ctx)).message).toMatch(/bad cron field day of week "funday"/);
    expect(refusal(() => parseTrigger('0 0 30 2 *', ctx)).message).toMatch(/cron "0 0 30 2 \*" in "0 0 30 2 \*" never runs/);
    expect(refusal(() => parseTrigger('cron 0 0 31 4,6 *', ctx)).message).toMatch(/never runs/);
    expect(refusal(() => parseTrigger('cron 0 8 * *', ctx)).message).toMatch(/has 4 cron fields; a cron has 5/);
    expect(refusal(() => parseTrigger('H 8 * * *', ctx)).message).toMatch(/cron field "H" .*hashed/);
  });
});

describe('rrule', () => {
  const rule = 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34';

  it('runs every other week from the start (DTSTART), on the wall clock', () => {
    const t = parseTrigger(rule, ctx);
    expect(t.form).toBe('rrule');
    expect(t.canonical).toBe(`${rule};BYSECOND=0`);
    // The start's own Tuesday, 9:34, came before 13:00: the next period is two weeks on.
    expect(occurrences(t, START)).toEqual([wall('2027-01-19T09:34'), wall('2027-02-02T09:34'), wall('2027-02-16T09:34')]);
    expect(parseTrigger(`RRULE:${rule}`, ctx).canonical).toBe(t.canonical);
  });

  it('takes a missing time of day from the start, to the second', () => {
    const t = parseTrigger('FREQ=DAILY', { tz: BERLIN, start: START + 1500 });
    expect(t.canonical).toBe('FREQ=DAILY');
    // DTSTART is the start rounded up to the second: 13:00:02.
    expect(occurrences(t, START)).toEqual([START + 2000, START + 2000 + 86_400_000, START + 2000 + 2 * 86_400_000]);
  });

  it('counts COUNT from the first run after the start: the start itself, made on the dot, is never a run', () => {
    const t = parseTrigger('FREQ=DAILY;COUNT=3;BYHOUR=9', ctx);
    expect(occurrences(t, START, 4)).toEqual([wall('2027-01-06T09:00'), wall('2027-01-07T09:00'), wall('2027-01-08T09:00'), undefined]);
    expect(t.next(wall('2027-01-07T12:00'))).toBe(wall('2027-01-08T09:00'));
    // Made at 09:00 on the dot: RFC 5545 counts that DTSTART, but it is past once made, so two runs follow.
    const onTime = parseTrigger('FREQ=DAILY;COUNT=2;BYHOUR=9', { tz: BERLIN, start: wall('2027-01-05T09:00') });
    expect(occurrences(onTime, wall('2027-01-05T09:00'), 3)).toEqual([wall('2027-01-06T09:00'), wall('2027-01-07T09:00'), undefined]);
  });

  it('stops after UNTIL, which counts, given in UTC, as a wall time or as a date', () => {
    const utc = parseTrigger('FREQ=DAILY;BYHOUR=9;UNTIL=20270108T080000Z', ctx);
    expect(occurrences(utc, START, 4)).toEqual([wall('2027-01-06T09:00'), wall('2027-01-07T09:00'), wall('2027-01-08T09:00'), undefined]);
    expect(utc.canonical).toBe('FREQ=DAILY;UNTIL=20270108T080000Z;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    expect(parseTrigger('FREQ=DAILY;BYHOUR=9;UNTIL=20270108T090000', ctx).canonical).toBe(utc.canonical);
    const date = parseTrigger('FREQ=DAILY;BYHOUR=9;UNTIL=20270107', ctx);
    expect(date.canonical).toBe('FREQ=DAILY;UNTIL=20270107T225959Z;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    expect(occurrences(date, START)).toEqual([wall('2027-01-06T09:00'), wall('2027-01-07T09:00'), undefined]);
  });

  it('refuses a bad part by name', () => {
    expect(refusal(() => parseTrigger('FREQ=SOMETIMES', ctx)).message).toMatch(
      /^bad RRULE part "FREQ=SOMETIMES" in "FREQ=SOMETIMES": FREQ is one of YEARLY/,
    );
    expect(refusal(() => parseTrigger('FREQ=DAILY;BYHOUR=24', ctx)).message).toMatch(/bad RRULE part "BYHOUR=24".*"24" is not 0–23/);
    expect(refusal(() => parseTrigger('FREQ=DAILY;COLOR=RED', ctx)).message).toMatch(/unknown RRULE part "COLOR=RED"/);
    expect(refusal(() => parseTrigger('FREQ=DAILY;DTSTART=20270101T000000Z', ctx)).message).toMatch(
      /"DTSTART=20270101T000000Z".*leave DTSTART out/,
    );
    expect(refusal(() => parseTrigger('FREQ=DAILY;COUNT=3;UNTIL=20270108', ctx)).message).toMatch(/both COUNT and UNTIL/);
    expect(refusal(() => parseTrigger('FREQ=DAILY;COUNT=5000', ctx)).message).toMatch(/"COUNT=5000".*1 to 1000/);
    expect(refusal(() => parseTrigger('FREQ=WEEKLY;BYMONTHDAY=3', ctx)).message).toMatch(/BYMONTHDAY does not go with FREQ=WEEKLY/);
    expect(refusal(() => parseTrigger('FREQ=WEEKLY;BYDAY=2MO', ctx)).message).toMatch(/numbered weekday/);
    expect(refusal(() => parseTrigger('INTERVAL=2', ctx)).message).toMatch(/"INTERVAL=2" has no FREQ/);
    expect(refusal(() => parseTrigger('FREQ=DAILY;BYDAY=XX', ctx)).message).toMatch(/"XX" is not a weekday/);
    expect(refusal(() => parseTrigger('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', ctx)).message).toMatch(
      /no day of any year has BYMONTH=2 and BYMONTHDAY=30/,
    );
    expect(refusal(() => parseTrigger('FREQ=HOURLY;BYMONTH=1;BYYEARDAY=60', ctx)).message).toMatch(
      /no day of any year has BYMONTH=1 and BYYEARDAY=60/,
    );
    expect(parseTrigger('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;BYYEARDAY=60', ctx).next(START)).toBe(wall('2028-02-29T13:00'));
  });
});

describe('canonical text', () => {
  const rules = [
    'at 2027-03-01 08:15',
    'every 45m',
    '0 8 * * mon,thu',
    '*/20 9-17 * * 1-5',
    '0 0 L * *',
    'FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=18',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3;BYHOUR=10;COUNT=5',
    'FREQ=HOURLY;INTERVAL=3;BYMINUTE=15',
    'FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=SU,WE',
    'FREQ=DAILY;UNTIL=20271231',
  ];
  it.each(rules)('of %s parses back to the same occurrences', (text) => {
    const t = parseTrigger(text, ctx);
    const again = parseTrigger(t.canonical, ctx);
    expect(again.canonical).toBe(t.canonical);
    expect(again.form).toBe(t.form);
    expect(occurrences(again, START, 6)).toEqual(occurrences(t, START, 6));
  });
});

describe('zones and refusals', () => {
  it('checks the zone', () => {
    expect(checkZone(BERLIN)).toBe(BERLIN);
    expect(checkZone('UTC')).toBe('UTC');
    const err = refusal(() => checkZone('Mars/Base'));
    expect(err.message).toMatch(/^unknown time zone "Mars\/Base"/);
    expect(err.rule).toBe('Mars/Base');
    expect(refusal(() => parseTrigger('every 1h', { tz: 'Mars/Base', start: START })).message).toMatch(/unknown time zone "Mars\/Base"/);
  });

  it('refuses empty and overlong text, and keeps the text it refused', () => {
    expect(refusal(() => parseTrigger('   ', ctx)).message).toMatch(/^empty rule/);
    expect(refusal(() => parseTrigger(`every ${'very '.repeat(120)}day`, ctx)).message).toMatch(/longer than 500/);
    expect(refusal(() => parseTrigger('every fortnightly at 9', ctx)).rule).toBe('every fortnightly at 9');
  });
});
