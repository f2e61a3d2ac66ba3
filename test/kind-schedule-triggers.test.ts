/**
 * A kind's own schedule in the triggers' forms: English text that becomes a duration or a cron runs as
 * that duration or cron always did; an RRULE and a module's `schedule.next` run through the repeat
 * strategy; a bad rule stops the producer with exit 78; a wall time skipped by daylight saving runs
 * once that day.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RepeatOptions } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/config/catalog-source.js';
import { ConfigError } from '../src/config/errors.js';
import type { Declarations, ScheduleConfig } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import { readStatus } from '../src/ops/status.js';
import { startProducer } from '../src/producers/main.js';
import { catchUpVerdict, latestRun, MAX_SLOT_STEPS } from '../src/schedules/catch-up.js';
import { scheduleDefinitions } from '../src/schedules/definitions.js';
import { cadenceOf, ruleAnchor } from '../src/schedules/kind-cadence.js';
import { kindRepeatStrategy } from '../src/schedules/repeat-strategy.js';
import { tickHistory } from '../src/schedules/tick-record.js';
import { capturingLogger, type Harness, reconcileAsProducer } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const { h } = useHarnesses();
const H = 3_600_000;

/** A catalog of global kinds only (no Spotter kinds ticking beside them), by name and schedule. */
function catalog(schedules: Record<string, Declarations[string]['decl']['schedule']>): Declarations {
  const out: Declarations = {};
  for (const [name, schedule] of Object.entries(schedules)) out[name] = { decl: { scope: 'global', schedule }, source: 'test' };
  return out;
}

async function schedulers(x: Harness) {
  return Object.fromEntries((await x.queues.schedules().getJobSchedulers(0, -1)).map((s) => [s.key, s]));
}

/** The scheduled times of a kind's ticks, oldest first, once there are at least `n`. */
async function ticks(x: Harness, kind: string, n: number): Promise<number[]> {
  const list = await waitFor(`${n} ticks of ${kind}`, async () => {
    const t = await tickHistory(x.conn, x.prefix, kind);
    return t.length >= n ? t : undefined;
  });
  return list.map((t) => t.scheduledFor).reverse();
}

const scheduleOf = (env: Record<string, string>, schedules: Parameters<typeof catalog>[0], kind = 'report') =>
  loadConfig(env, catalog(schedules)).kinds[kind]?.schedule as ScheduleConfig;

describe('a kind whose schedule is English text that becomes a cron or a duration', () => {
  it('reconciles to the same BullMQ scheduler as the cron or duration written out', async () => {
    const x = await h(
      { SPOTTER_JOBS_TZ: 'Europe/Berlin' },
      { catalog: catalog({ text: 'every day at 08:00', cron: '0 8 * * *', hours: 'every 2 hours', dur: '2h' }) },
    );
    expect((await reconcileAsProducer(x)).created.sort()).toEqual(['cron', 'dur', 'hours', 'text']);
    const s = await schedulers(x);
    expect(s.text).toMatchObject({ pattern: '0 8 * * *', tz: 'Europe/Berlin', next: s.cron?.next });
    expect(s.text?.every).toBeUndefined();
    expect([s.hours?.every, s.dur?.every]).toEqual([2 * H, 2 * H]);
    expect(s.hours?.pattern).toBeUndefined();
    const defs = new Map(scheduleDefinitions(x.config).map((d) => [d.name, d]));
    expect(defs.get('text')?.spec).toBe(defs.get('cron')?.spec);
    expect(defs.get('hours')?.spec).toBe(defs.get('dur')?.spec);
    // Status reads as written, with what it runs as; the cron and the duration as before.
    const rows = new Map((await readStatus(x.queues, x.config)).schedules.map((r) => [r.name, r.interval]));
    expect(rows.get('text')).toBe('every day at 08:00 (0 8 * * *)');
    expect(rows.get('hours')).toBe('every 2 hours (2h)');
    expect(rows.get('cron')).toBe('0 8 * * *');
    expect(rows.get('dur')).toBe('2h');
  });
});

describe('a kind whose schedule is an RRULE', () => {
  it('ticks through the repeat strategy, on the rule, and says so in the logs and status', async () => {
    const { log, lines } = capturingLogger();
    const x = await h({ SPOTTER_JOBS_RETENTION_INTERVAL: '1h' }, { catalog: catalog({ pulse: 'FREQ=SECONDLY;INTERVAL=2' }), log });
    await startProducer(x, { retention: false });
    expect((await schedulers(x)).pulse).toMatchObject({ pattern: 'FREQ=SECONDLY;INTERVAL=2', tz: 'UTC' });
    const at = await ticks(x, 'pulse', 2);
    // Every other second from the rule's fixed start (2000-01-03 00:00 UTC, an even second).
    for (const t of at) expect((t - ruleAnchor('UTC')) % 2000).toBe(0);
    const [a, b] = at as [number, number];
    expect(b - a).toBeGreaterThan(0);
    expect((b - a) % 2000).toBe(0);
    const next = lines.find((l) => l.schedule === 'pulse' && 'nextRun' in l);
    expect(next?.interval).toBe('FREQ=SECONDLY;INTERVAL=2');
    expect(next?.nextRun).toEqual(expect.any(String));
  });

  it('shows English text that becomes an RRULE with its canonical form', async () => {
    const x = await h({}, { catalog: catalog({ standup: 'every other tuesday at 9:34am' }) });
    await reconcileAsProducer(x);
    const rule = 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34;BYSECOND=0';
    const s = (await schedulers(x)).standup;
    expect(s?.pattern).toBe(rule);
    // Tuesdays of even weeks counted from Monday 2000-01-03: the phase does not depend on the start.
    const weeks = ((s?.next as number) - ruleAnchor('UTC')) / (7 * 24 * H);
    expect(Math.floor(weeks) % 2).toBe(0);
    expect(new Date(s?.next as number).toISOString()).toMatch(/T09:34:00\.000Z$/);
    const row = (await readStatus(x.queues, x.config)).schedules.find((r) => r.name === 'standup');
    expect(row?.interval).toBe(`every other tuesday at 9:34am (${rule})`);
  });

  it('uses the most recent slot for catch-up, found in bounded steps however long the producers were down', () => {
    const s = scheduleOf({ SPOTTER_JOBS_REPORT_CATCH_UP: 'within 45m' }, { report: 'FREQ=HOURLY' });
    const due = Date.UTC(2026, 11, 1, 10);
    const now = Date.UTC(2026, 11, 1, 12, 40);
    expect(catchUpVerdict(s, 'UTC', due, now)).toEqual({ run: true });
    const strict = scheduleOf({ SPOTTER_JOBS_REPORT_CATCH_UP: 'within 30m' }, { report: 'FREQ=HOURLY' });
    expect(catchUpVerdict(strict, 'UTC', due, now)).toMatchObject({ run: false, reason: expect.stringMatching(/passed 40m ago/) });
    const skip = scheduleOf({ SPOTTER_JOBS_REPORT_CATCH_UP: 'skip' }, { report: 'FREQ=HOURLY' });
    expect(catchUpVerdict(skip, 'UTC', due, now)).toMatchObject({
      run: false,
      reason: expect.stringMatching(/more than one interval \(1h\)/),
    });
    // Every second, down for two days: the slot just before now, in far fewer than one step per slot.
    const pulse = cadenceOf(scheduleOf({}, { report: 'FREQ=SECONDLY' }), 'UTC');
    let calls = 0;
    const counted = (after: number) => {
      calls++;
      return pulse.form === 'rrule' ? pulse.next(after) : undefined;
    };
    expect(latestRun(counted, due - 48 * H, now + 300)).toBe(now);
    expect(calls).toBeLessThan(MAX_SLOT_STEPS);
  });
});

describe('a module kind with schedule: { next(after) }', () => {
  it('ticks when its function says', async () => {
    const asked: number[] = [];
    // 700 ms into every second and a half.
    const next = (after: number) => {
      asked.push(after);
      return Math.floor((after - 700) / 1500) * 1500 + 1500 + 700;
    };
    const x = await h({}, { catalog: catalog({ beat: { next } }) });
    await startProducer(x, { retention: false });
    expect((await schedulers(x)).beat?.pattern).toBe('fn:beat');
    const at = await ticks(x, 'beat', 2);
    for (const t of at) expect(t % 1500).toBe(700);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    const row = (await readStatus(x.queues, x.config)).schedules.find((r) => r.name === 'beat');
    expect(row?.interval).toBe('schedule.next() (fn:beat)');
  });

  it('takes a Date, and logs a function that throws or answers no later time: no next run', () => {
    const { log, lines } = capturingLogger();
    let answer: (after: number) => unknown = (after) => new Date(after + 5000);
    const config = loadConfig({}, catalog({ beat: { next: (after: number) => answer(after) as number } }));
    const strategy = kindRepeatStrategy(config, log);
    const opts: RepeatOptions = { pattern: 'fn:beat', tz: 'UTC' };
    const t = Date.UTC(2027, 0, 1);
    expect(strategy(t, opts)).toBe(t + 5000);
    answer = (after) => after;
    expect(strategy(t, opts)).toBeUndefined();
    answer = () => {
      throw new Error('calendar unreachable');
    };
    expect(strategy(t, opts)).toBeUndefined();
    answer = () => null;
    expect(strategy(t, opts)).toBeUndefined();
    expect(strategy(t, { pattern: 'fn:gone', tz: 'UTC' })).toBeUndefined();
    const said = lines.filter((l) => l.schedule === 'beat' || l.schedule === 'gone').map((l) => [l.level, l.msg]);
    expect(said).toEqual([
      [
        50,
        'schedule beat has no next run: its schedule.next(2027-01-01T00:00:00.000Z) returned 2027-01-01T00:00:00.000Z, not after 2027-01-01T00:00:00.000Z',
      ],
      [50, 'schedule beat has no next run: its schedule.next(2027-01-01T00:00:00.000Z) threw: calendar unreachable'],
      [40, 'schedule beat has no next run: its schedule.next(2027-01-01T00:00:00.000Z) returned null'],
      [50, "schedule gone has no next run: no kind of this producer's catalog has a schedule function by that name"],
    ]);
  });

  it('gets its scheduler back at the next reconcile once the function answers again', async () => {
    let stopped = false;
    const next = (after: number) => (stopped ? null : Math.floor(after / 1000) * 1000 + 1000);
    const { log, lines } = capturingLogger('warn');
    const x = await h({}, { catalog: catalog({ beat: { next } }), log });
    const p = await startProducer(x, { retention: false });
    await ticks(x, 'beat', 1);
    stopped = true;
    // The tick already scheduled runs; taking it asks for the next, which the function refuses.
    await waitFor('the last tick finished with none pending', async () => {
      const s = (await schedulers(x)).beat;
      return (await x.queues.schedules().getJobState(`repeat:beat:${s?.next}`)) === 'completed';
    });
    const seen = (await tickHistory(x.conn, x.prefix, 'beat')).length;
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(
      lines.some((l) => l.schedule === 'beat' && / has no next run: its schedule\.next\(.*\) returned null$/.test(String(l.msg))),
    ).toBe(true);
    stopped = false;
    expect(await p.reconcile()).toMatchObject({ repaired: ['beat'] });
    expect((await ticks(x, 'beat', seen + 1)).length).toBeGreaterThan(seen);
  });

  it('is refused in a catalog file (HTTP mode), which holds no code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kind-schedule-'));
    try {
      const file = join(dir, 'catalog.yaml');
      writeFileSync(file, 'jobs:\n  beat: { scope: global, schedule: { next: soon } }\n');
      const err = await loadCatalog({ SPOTTER_URL: 'http://spotter:8080', SPOTTER_JOBS_CATALOG: file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('SPOTTER_JOBS_CATALOG: kind "beat" field "schedule"');
      expect((err as ConfigError).message).toContain('a schedule function ({ next(after) }) only in module mode');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a bad rule', () => {
  it('stops the producer with exit 78, naming the variable and the word not understood', async () => {
    const r = await runCli(['producer'], { SPOTTER_SYNC_INTERVAL: 'every fortnightly at 9' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('SPOTTER_SYNC_INTERVAL="every fortnightly at 9" is invalid');
    expect(r.stderr).toContain('did not understand "fortnightly"');
  });

  it.each([
    ['at 2027-01-31 04:00', 'runs once'],
    ['FREQ=DAILY;COUNT=3', 'no COUNT'],
    ['FREQ=DAILY;UNTIL=20200101T000000Z', 'has none after'],
    ['every 30 seconds', 'longer than the offset, 1m'],
  ])('refuses %j when the producer reads it, naming the catalog field', (rule, why) => {
    const config = loadConfig({}, { report: { decl: { scope: 'global', schedule: rule, offset: '1m' }, source: 'jobs.yaml' } });
    const err = (() => {
      try {
        scheduleDefinitions(config);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`jobs.yaml: kind "report" field "schedule"=${JSON.stringify(rule)} is invalid`);
    expect((err as ConfigError).message).toContain(why);
  });
});

describe('daylight saving', () => {
  const strategy = kindRepeatStrategy(loadConfig({}, {}), capturingLogger().log);
  /** Runs of `pattern` in Europe/Berlin from `from` for three days, by local date. */
  const runsByDay = (pattern: string, from: number) => {
    const days = new Map<string, number[]>();
    const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' });
    for (let t = strategy(from, { pattern, tz: 'Europe/Berlin' }) as number; t < from + 72 * H; ) {
      const day = fmt.format(new Date(t));
      days.set(day, [...(days.get(day) ?? []), t]);
      t = strategy(t, { pattern, tz: 'Europe/Berlin' }) as number;
    }
    return days;
  };

  it.each([['30 2 * * *'], ['FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0']])(
    'runs %s once on the day the clock skips 02:30, and once on the day it repeats it',
    (pattern) => {
      const spring = runsByDay(pattern, Date.UTC(2027, 2, 27));
      expect(spring.get('2027-03-28')).toEqual([Date.parse('2027-03-28T01:30:00Z')]); // 03:30 CEST
      expect(spring.get('2027-03-29')).toEqual([Date.parse('2027-03-29T00:30:00Z')]);
      const autumn = runsByDay(pattern, Date.UTC(2027, 9, 30));
      expect(autumn.get('2027-10-31')).toEqual([Date.parse('2027-10-31T00:30:00Z')]); // the first 02:30
    },
  );

  it('gives "every day at 02:30" the same runs as the cron', () => {
    const c = cadenceOf(scheduleOf({ SPOTTER_JOBS_TZ: 'Europe/Berlin' }, { report: 'every day at 02:30' }), 'Europe/Berlin');
    expect(c).toEqual({ form: 'cron', pattern: '30 2 * * *' });
  });
});
