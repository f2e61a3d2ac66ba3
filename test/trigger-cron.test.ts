/**
 * The fast cron search (cron-plan.ts) gives what cron-parser gives, run in UTC on the same instants:
 * for chosen expressions (both day fields, Sundays as 0 and 7, steps, names, seconds, leap days) and
 * for many random ones. Only the expressions' next runs are compared, never a hard-coded answer.
 */
import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { CronPlan, isPlain } from '../src/schedules/triggers/cron-plan.js';

/** cron-parser's next run strictly after `at`, in UTC. */
function parserNext(expr: string, at: number): number {
  return CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: new Date(at) })
    .next()
    .getTime();
}

function neverRuns(expr: string): boolean {
  try {
    parserNext(expr, Date.UTC(2026, 0, 1));
    return false;
  } catch {
    return true;
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s % n;
  };
}

function randomField(rnd: (n: number) => number, min: number, max: number): string {
  const v = () => min + rnd(max - min + 1);
  switch (rnd(6)) {
    case 0:
      return '*';
    case 1:
      return String(v());
    case 2: {
      const a = v();
      return `${a}-${a + rnd(max - a + 1)}`;
    }
    case 3:
      return `*/${1 + rnd(Math.max(1, Math.floor((max - min) / 2)))}`;
    case 4:
      return [...new Set([v(), v(), v()])].join(',');
    default: {
      const a = v();
      return `${a}-${max}/${1 + rnd(5)}`;
    }
  }
}

function compare(expr: string, instants: number[]): void {
  const fields = CronExpressionParser.parse(expr, { tz: 'UTC' }).fields;
  expect(isPlain(fields), expr).toBe(true);
  const plan = new CronPlan(fields);
  for (const at of instants) {
    expect(plan.next(at), `${expr} after ${new Date(at).toISOString()}`).toBe(parserNext(expr, at));
  }
}

const around = (iso: string) => {
  const t = Date.parse(iso);
  return [t - 1, t, t + 1, t + 500, t + 59_999, t + 86_399_999];
};

describe('the fast cron search', () => {
  it.each([
    '0 8 * * *',
    '30 7 * * 1-5',
    '0 18 * * 1,4',
    '0 0 1 * *',
    '0 9 13 * 5',
    '0 9 1,15 * 0',
    '0 9 * * 7',
    '*/15 * * * *',
    '*/20 9-17 * * mon-fri',
    '15 30 7 * * *',
    '*/7 * * * * *',
    '0 0 29 2 *',
    '0 12 31 * *',
    '59 23 31 12 *',
    '0 0 * jan,jul sun',
    '0 0 ? * 3',
  ])('gives what cron-parser gives for %s', (expr) => {
    compare(expr, [
      ...around('2027-01-31T23:59:59Z'),
      ...around('2028-02-28T08:00:00Z'),
      ...around('2096-03-01T00:00:00Z'),
      ...around('2027-12-31T23:30:00Z'),
      ...around('2027-06-15T07:29:59Z'),
    ]);
  });

  it('gives what cron-parser gives for random expressions and instants', () => {
    const rnd = generator(20_270_131);
    for (let i = 0; i < 300; i++) {
      const withSeconds = rnd(4) === 0;
      const fields = [
        randomField(rnd, 0, 59),
        randomField(rnd, 0, 23),
        randomField(rnd, 1, 28 + rnd(4)),
        randomField(rnd, 1, 12),
        randomField(rnd, 0, 7),
      ];
      const expr = (withSeconds ? [randomField(rnd, 0, 59), ...fields] : fields).join(' ');
      const instants = Array.from({ length: 8 }, () => Date.UTC(2026, 0, 1) + rnd(3650) * 86_400_000 + rnd(86_400) * 1000 + rnd(1000));
      // A month and day that never meet (31 4 *) has no next run to compare.
      if (!neverRuns(expr)) compare(expr, instants);
    }
  });

  it('leaves L and # to cron-parser', () => {
    for (const expr of ['0 0 L * *', '0 0 * * 5#2', '0 0 * * 5L']) {
      expect(isPlain(CronExpressionParser.parse(expr).fields)).toBe(false);
    }
  });
});
