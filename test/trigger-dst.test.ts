/**
 * Daylight saving: a wall time the clock springs over runs once, shifted forward by the gap; a wall
 * time the clock passes twice runs once, at its first instant. Cron and RRULE follow the same rule, in
 * Europe/Berlin (2027-03-28 02:00→03:00, 2027-10-31 03:00→02:00) and America/New_York (2027-03-14
 * 02:00→03:00, 2027-11-07 02:00→01:00); durations do not move.
 */
import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';
import rrulePkg from 'rrule';
import { describe, expect, it } from 'vitest';
import { parseTrigger, type Trigger } from '../src/schedules/triggers/index.js';
import { ZoneOffsets } from '../src/schedules/triggers/zone-offsets.js';

const { RRule } = rrulePkg;
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const MINUTE = 60_000;

function occurrences(t: Trigger, after: number, n: number): string[] {
  const out: string[] = [];
  let at: number | undefined = after;
  for (let i = 0; i < n; i++) {
    at = t.next(at);
    if (at === undefined) break;
    out.push(new Date(at).toISOString().replace('.000Z', 'Z'));
  }
  return out;
}

const from = (iso: string, rule: string, tz: string) => parseTrigger(rule, { tz, start: Date.parse(iso) });

describe('spring forward', () => {
  it.each([
    ['cron', '30 2 * * *'],
    ['rrule', 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30'],
  ])('%s: 02:30, which 2027-03-28 does not have in Berlin, runs at 03:30 that day', (_form, rule) => {
    const t = from('2027-03-26T12:00:00Z', rule, BERLIN);
    // 02:30 CET the day before, 03:30 CEST (01:30Z) on the day, then 02:30 CEST.
    expect(occurrences(t, Date.parse('2027-03-26T12:00:00Z'), 3)).toEqual([
      '2027-03-27T01:30:00Z',
      '2027-03-28T01:30:00Z',
      '2027-03-29T00:30:00Z',
    ]);
  });

  it.each([
    ['cron', '30 2 * * *'],
    ['rrule', 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30'],
  ])('%s: 02:30 on 2027-03-14 in New York runs at 03:30 EDT', (_form, rule) => {
    const t = from('2027-03-13T12:00:00Z', rule, NEW_YORK);
    expect(occurrences(t, Date.parse('2027-03-13T12:00:00Z'), 2)).toEqual(['2027-03-14T07:30:00Z', '2027-03-15T06:30:00Z']);
  });

  it('runs a shifted time and the same wall time after the gap once', () => {
    const t = from('2027-03-27T00:00:00Z', '30 2,3 * * *', BERLIN);
    // 28 March: 02:30 shifted and 03:30 are both 03:30 CEST, once.
    expect(occurrences(t, Date.parse('2027-03-27T12:00:00Z'), 3)).toEqual([
      '2027-03-28T01:30:00Z',
      '2027-03-29T00:30:00Z',
      '2027-03-29T01:30:00Z',
    ]);
  });

  it('runs a wall time just past the gap before a later one shifted out of it', () => {
    // 02:45 and 03:10 each day (BYSETPOS 2 and 3 of 02:10, 02:45, 03:10, 03:45). On the 28th 03:10
    // CEST (01:10Z) comes before 02:45 shifted to 03:45 CEST (01:45Z), and both run.
    const t = from('2027-03-20T00:00:00Z', 'FREQ=DAILY;BYHOUR=2,3;BYMINUTE=10,45;BYSETPOS=2,3', BERLIN);
    expect(occurrences(t, Date.parse('2027-03-27T12:00:00Z'), 3)).toEqual([
      '2027-03-28T01:10:00Z',
      '2027-03-28T01:45:00Z',
      '2027-03-29T00:45:00Z',
    ]);
  });

  it('keeps half-hourly wall times through the gap, one run per instant', () => {
    const t = from('2027-03-27T00:00:00Z', '*/30 * * * *', BERLIN);
    // 01:30 CET, then 03:00 CEST (02:00 shifted), 03:30 CEST (02:30 shifted and 03:30 itself).
    expect(occurrences(t, Date.parse('2027-03-28T00:15:00Z'), 4)).toEqual([
      '2027-03-28T00:30:00Z',
      '2027-03-28T01:00:00Z',
      '2027-03-28T01:30:00Z',
      '2027-03-28T02:00:00Z',
    ]);
  });

  it('places a once without zone in the gap the same way', () => {
    expect(parseTrigger('at 2027-03-28 02:30', { tz: BERLIN, start: 0 }).canonical).toBe('at 2027-03-28T01:30:00Z');
  });
});

describe('fall back', () => {
  it.each([
    ['cron', '30 2 * * *'],
    ['rrule', 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30'],
  ])('%s: 02:30, which 2027-10-31 has twice in Berlin, runs once, at 02:30 CEST', (_form, rule) => {
    const t = from('2027-10-29T12:00:00Z', rule, BERLIN);
    expect(occurrences(t, Date.parse('2027-10-29T12:00:00Z'), 3)).toEqual([
      '2027-10-30T00:30:00Z',
      '2027-10-31T00:30:00Z',
      '2027-11-01T01:30:00Z',
    ]);
    // From inside the second pass (02:10 CET) the next run is the next day's.
    expect(t.next(Date.parse('2027-10-31T01:10:00Z'))).toBe(Date.parse('2027-11-01T01:30:00Z'));
  });

  it.each([
    ['cron', '30 1 * * *'],
    ['rrule', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30'],
  ])('%s: 01:30 on 2027-11-07 in New York runs once, at 01:30 EDT', (_form, rule) => {
    const t = from('2027-11-06T12:00:00Z', rule, NEW_YORK);
    expect(occurrences(t, Date.parse('2027-11-06T12:00:00Z'), 2)).toEqual(['2027-11-07T05:30:00Z', '2027-11-08T06:30:00Z']);
  });

  it('does not repeat half-hourly wall times in the second pass', () => {
    const t = from('2027-10-30T00:00:00Z', '*/30 * * * *', BERLIN);
    // 02:00 and 02:30 CEST; the repeated hour (01:00Z–02:00Z) already ran; then 03:00 CET.
    expect(occurrences(t, Date.parse('2027-10-30T23:45:00Z'), 4)).toEqual([
      '2027-10-31T00:00:00Z',
      '2027-10-31T00:30:00Z',
      '2027-10-31T02:00:00Z',
      '2027-10-31T02:30:00Z',
    ]);
  });

  it('places a once without zone at the first instant', () => {
    expect(parseTrigger('at 2027-10-31 02:30', { tz: BERLIN, start: 0 }).canonical).toBe('at 2027-10-31T00:30:00Z');
  });
});

describe('durations', () => {
  it('run every hour of absolute time through both transitions', () => {
    for (const iso of ['2027-03-28T00:10:00Z', '2027-10-31T00:10:00Z']) {
      const t = from(iso, 'every 1h', BERLIN);
      expect(occurrences(t, Date.parse(iso), 3)).toEqual(
        [1, 2, 3].map((h) => new Date(Date.parse(iso) + h * 3_600_000).toISOString().replace('.000Z', 'Z')),
      );
    }
  });
});

/**
 * The rule, worked out independently: every wall time of the series (from cron-parser or rrule run
 * directly on UTC) is placed by luxon (an offset in force a day before or after that gives the wall
 * time back, the earliest; none: the offset of the day before, which shifts it forward by the gap),
 * and next(after) must be the least such instant after `after`.
 */
function placed(wallMs: number, zone: string): number {
  const offsets = [-86_400_000, 86_400_000].map((d) => DateTime.fromMillis(wallMs + d, { zone }).offset * MINUTE);
  const valid = offsets.map((o) => wallMs - o).filter((t) => t + DateTime.fromMillis(t, { zone }).offset * MINUTE === wallMs);
  return valid.length > 0 ? Math.min(...valid) : wallMs - (offsets[0] as number);
}

function floatingSeries(rule: string, from: number, to: number): number[] {
  if (rule.startsWith('FREQ=')) {
    const r = new RRule({ ...RRule.parseString(rule), dtstart: new Date(from) });
    return r.between(new Date(from), new Date(to), true).map((d) => d.getTime());
  }
  const cron = CronExpressionParser.parse(rule, { tz: 'UTC', currentDate: new Date(from - 1), endDate: new Date(to) });
  const out: number[] = [];
  while (cron.hasNext()) out.push(cron.next().getTime());
  return out;
}

describe('against the rule worked out independently', () => {
  const rules = [
    '*/20 * * * *',
    '15 1-3 * * *',
    '30 */10 2 * * *',
    'FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0,30;BYSECOND=0',
    'FREQ=DAILY;BYHOUR=2,3;BYMINUTE=10,45;BYSECOND=0;BYSETPOS=2,3',
    'FREQ=HOURLY;BYMINUTE=15,45;BYSECOND=0',
  ];
  // Lord Howe Island moves its clock by half an hour.
  const days: [string, string][] = [
    [BERLIN, '2027-03-28'],
    [BERLIN, '2027-10-31'],
    [NEW_YORK, '2027-03-14'],
    [NEW_YORK, '2027-11-07'],
    ['Australia/Lord_Howe', '2027-04-04'],
    ['Australia/Lord_Howe', '2027-10-03'],
  ];
  for (const [zone, day] of days) {
    it.each(rules)(`${zone} ${day}: %s`, (rule) => {
      const dayStart = Date.parse(`${day}T00:00:00Z`);
      const start = dayStart - 2 * 86_400_000;
      const expected = [...new Set(floatingSeries(rule, start, dayStart + 3 * 86_400_000).map((w) => placed(w, zone)))].sort(
        (a, b) => a - b,
      );
      const t = parseTrigger(rule, { tz: zone, start: placed(start, zone) });
      const afters: number[] = [];
      for (let after = dayStart - 18 * 3_600_000; after < dayStart + 30 * 3_600_000; after += 7 * MINUTE) afters.push(after);
      afters.push(...expected.flatMap((e) => [e - 1, e]).filter((e) => e > dayStart - 18 * 3_600_000 && e < dayStart + 30 * 3_600_000));
      for (const after of afters) {
        expect(t.next(after), `${rule} after ${new Date(after).toISOString()}`).toBe(expected.find((e) => e > after));
      }
    });
  }
});

describe('zone offsets learnt as spans', () => {
  // Half-hour daylight saving; Ramadan suspensions (transitions weeks apart); the US rules of 1970–2040.
  it.each(['Australia/Lord_Howe', 'Africa/Casablanca', 'America/New_York'])(
    '%s: agree with the zone, 1970 to 2040, on each side of every transition',
    (zone) => {
      const offsets = new ZoneOffsets(zone);
      const iana = IANAZone.create(zone);
      const truth = (t: number) => Math.round(iana.offset(t) * MINUTE);
      // Random instants first, so spans are learnt out of order.
      let s = 7;
      for (let i = 0; i < 500; i++) {
        s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
        const t = Date.UTC(1970, 0, 1) + (s % 25_567) * 86_400_000 + (s % 86_400_000);
        expect(offsets.at(t)).toBe(truth(t));
      }
      const step = 12 * 3_600_000;
      let transitions = 0;
      let previous = truth(Date.UTC(1970, 0, 1) - step);
      for (let t = Date.UTC(1970, 0, 1); t < Date.UTC(2040, 0, 1); t += step) {
        const now = truth(t);
        expect(offsets.at(t)).toBe(now);
        if (now !== previous) {
          // Pin the transition to the millisecond and look at both sides of it.
          let before = t - step;
          let after = t;
          while (after - before > 1) {
            const mid = Math.floor((before + after) / 2);
            if (truth(mid) === previous) before = mid;
            else after = mid;
          }
          transitions++;
          for (const u of [before - 3_600_000, before, after, after + 3_600_000])
            expect(offsets.at(u), new Date(u).toISOString()).toBe(truth(u));
        }
        previous = now;
      }
      expect(transitions).toBeGreaterThan(0);
    },
  );
});
