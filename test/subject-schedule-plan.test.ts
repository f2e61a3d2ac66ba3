/** A subject schedule's definition string and what becomes of one run: pure rules, no Redis. */
import { describe, expect, it } from 'vitest';
import { decodeDef, encodeDef, type ScheduleDef } from '../src/schedules/subject/codec.js';
import { MISSED_AFTER_MS, nextRuns, planOccurrence } from '../src/schedules/subject/occurrence.js';
import { parseTrigger, type Trigger } from '../src/schedules/triggers/index.js';

/** Every minute from 0: a trigger written out here so the rules below are read against plain numbers. */
const everyMinute: Trigger = { form: 'every', canonical: 'every 1m', next: (after) => (Math.floor(after / 60_000) + 1) * 60_000 };
const MIN = 60_000;
const T0 = 1_800_000_000_000; // a whole minute

const def: ScheduleDef = {
  kind: 'remind',
  scope: 'user',
  subject: 'ann',
  name: 'tea',
  rule: 'every 1m',
  tz: 'Europe/Berlin',
  start: T0,
  state: 'active',
};

describe('the stored definition', () => {
  it('round-trips, sharing the trigger and zone under a digest, and stays within 64 bytes', () => {
    const { text, shared } = encodeDef({ ...def, countLeft: 3, until: T0 + 10 * MIN });
    expect(text.length).toBeLessThanOrEqual(64);
    expect(shared?.text).toBe('every 1m|Europe/Berlin');
    expect(decodeDef(text, shared?.text)).toEqual({ ...def, countLeft: 3, until: T0 + 10 * MIN });
  });

  it('keeps a one-off run as its instant, and item data (which may hold "|") last', () => {
    const once = { ...def, scope: 'item' as const, rule: 'at 2027-01-31T04:00:00Z', tz: 'UTC', data: '{"a":"x|y"}' };
    const { text, shared } = encodeDef(once);
    expect(shared).toBeUndefined();
    expect(decodeDef(text, undefined)).toEqual(once);
  });
});

describe('one run of a schedule', () => {
  it('on time: runs, and the next run follows it', () => {
    expect(planOccurrence(def, T0 + MIN, T0 + MIN - 30_000, everyMinute, { policy: 'once' })).toMatchObject({
      run: true,
      next: T0 + 2 * MIN,
      lateMs: 0,
    });
  });

  it('counts down, and ends at its count', () => {
    const p1 = planOccurrence({ ...def, countLeft: 2 }, T0 + MIN, T0 + MIN, everyMinute, { policy: 'once' });
    expect(p1).toMatchObject({ run: true, next: T0 + 2 * MIN, def: { countLeft: 1, state: 'active' } });
    const p2 = planOccurrence(p1.def, T0 + 2 * MIN, T0 + 2 * MIN, everyMinute, { policy: 'once' });
    expect(p2).toMatchObject({ run: true, next: undefined, def: { countLeft: 0, state: 'ended' } });
  });

  it('ends when the next run would pass until', () => {
    expect(planOccurrence({ ...def, until: T0 + MIN + 1 }, T0 + MIN, T0 + MIN, everyMinute, { policy: 'once' })).toMatchObject({
      run: true,
      next: undefined,
      def: { state: 'ended' },
    });
  });

  it('missed: the latest missed run stands for them all; once runs it, skip drops a stretch past one interval, within D by its age', () => {
    const now = T0 + MIN + 10 * MIN + 5_000;
    expect(planOccurrence(def, T0 + MIN, now, everyMinute, { policy: 'once' })).toMatchObject({
      run: true,
      runAt: T0 + 11 * MIN,
      lateMs: 5_000,
      next: T0 + 12 * MIN,
    });
    expect(planOccurrence(def, T0 + MIN, now, everyMinute, { policy: 'skip' })).toMatchObject({
      run: false,
      skipped: expect.stringContaining('skip'),
      next: T0 + 12 * MIN,
    });
    expect(planOccurrence(def, T0 + MIN, now, everyMinute, { policy: 'within', ms: 10_000 })).toMatchObject({
      run: true,
      runAt: T0 + 11 * MIN,
    });
    expect(planOccurrence(def, T0 + MIN, now, everyMinute, { policy: 'within', ms: 2_000 })).toMatchObject({ run: false });
    // Late by less than MISSED_AFTER_MS is late, not missed: it runs whatever the policy, as itself.
    expect(planOccurrence(def, T0 + MIN, T0 + MIN + MISSED_AFTER_MS, everyMinute, { policy: 'skip' })).toMatchObject({
      run: true,
      runAt: T0 + MIN,
      next: T0 + 2 * MIN,
    });
  });

  it('missed past until: the run that stands is the last one not after until, never a later one', () => {
    const until = T0 + 3 * MIN + 30_000;
    const p = planOccurrence({ ...def, until }, T0 + MIN, T0 + 60 * MIN, everyMinute, { policy: 'once' });
    expect(p).toMatchObject({ run: true, runAt: T0 + 3 * MIN, next: undefined, def: { state: 'ended' } });
  });

  it('missed by far more runs than a walk takes: within D judges the true latest run', () => {
    const everySecond: Trigger = { form: 'every', canonical: 'every 1s', next: (after) => (Math.floor(after / 1000) + 1) * 1000 };
    // Four hours of one-second runs missed (14,400), taken half a second after the last of them.
    const now = T0 + 4 * 60 * MIN + 500;
    const p = planOccurrence(def, T0 + 1000, now, everySecond, { policy: 'within', ms: 10 * MIN });
    expect(p).toMatchObject({ run: true, runAt: T0 + 4 * 60 * MIN, lateMs: 500, next: T0 + 4 * 60 * MIN + 1000 });
  });

  it('lists the next runs within count and until', () => {
    expect(nextRuns({ ...def, countLeft: 2 }, everyMinute, T0, 3)).toEqual([T0 + MIN, T0 + 2 * MIN]);
    expect(nextRuns({ ...def, until: T0 + 2 * MIN }, everyMinute, T0, 3)).toEqual([T0 + MIN, T0 + 2 * MIN]);
  });
});

describe("an RRULE's COUNT", () => {
  // The creation second is the rule's DTSTART; a rule that names no time of day picks it.
  const created = Date.parse('2027-01-04T10:00:00.500Z');
  const start = Math.floor(created / 1000) * 1000;
  const runs = (rule: string) => nextRuns(def, parseTrigger(rule, { tz: 'UTC', start }), created, 10).map((t) => new Date(t).toISOString());

  it('counts the runs after creation, whether or not the rule picks the creation second', () => {
    expect(runs('FREQ=DAILY;COUNT=3')).toEqual(['2027-01-05T10:00:00.000Z', '2027-01-06T10:00:00.000Z', '2027-01-07T10:00:00.000Z']);
    expect(runs('FREQ=MINUTELY;COUNT=1')).toEqual(['2027-01-04T10:01:00.000Z']);
    expect(runs('FREQ=DAILY;COUNT=2;BYHOUR=9;BYMINUTE=0;BYSECOND=0')).toEqual(['2027-01-05T09:00:00.000Z', '2027-01-06T09:00:00.000Z']);
  });
});
