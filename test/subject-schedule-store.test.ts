/** Subject schedules in Redis: upsert, read, list, pause, resume, remove, refusals, and the dense layout. */
import { describe, expect, it } from 'vitest';
import { denseValueLimit } from '../src/redis/dense-limit.js';
import { scheduleBigKey, scheduleBucketsKey, scheduleDefKey, scheduleDueKey, scheduleSubjectKey } from '../src/redis/keys.js';
import { bucketOf, subjectShard } from '../src/schedules/subject/codec.js';
import { ScheduleInputError } from '../src/schedules/subject/input.js';
import { SubjectSchedules } from '../src/schedules/subject/store.js';
import { useHarnesses } from './helpers/in-process.js';
import { scheduleCatalog as catalog } from './helpers/schedule-catalog.js';

const { h } = useHarnesses();
const NOW = Date.parse('2027-01-04T10:00:00Z'); // a Monday

async function store(env: Record<string, string> = {}) {
  const x = await h(env, { catalog });
  return { x, s: new SubjectSchedules(x.conn, x.config, () => NOW) };
}

describe('subject schedules: create or replace', () => {
  it('gives an id, the trigger as understood and the next three runs', async () => {
    const { s } = await store();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: 'every day at 08:00', tz: 'Europe/Berlin' });
    expect(v.id).toMatch(/^[0-9a-z]+$/);
    expect(v.rule).toBe('cron 0 8 * * *');
    expect(v.runs).toEqual(['2027-01-05T07:00:00.000Z', '2027-01-06T07:00:00.000Z', '2027-01-07T07:00:00.000Z']);
    expect(v.next).toBe('2027-01-05T07:00:00.000Z');
    expect(await s.get(v.id)).toMatchObject({ id: v.id, kind: 'remind', user: 'ann', tz: 'Europe/Berlin', state: 'active' });
  });

  it('replaces the schedule of the same kind, subject and name, and adds one of another name', async () => {
    const { s } = await store();
    const a = await s.add({ kind: 'remind', user: 'ann', rule: '1h', name: 'tea' });
    const b = await s.add({ kind: 'remind', user: 'ann', rule: '2h', name: 'tea' });
    const c = await s.add({ kind: 'remind', user: 'ann', rule: '2h', name: 'walk' });
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
    expect((await s.get(a.id))?.rule).toBe('every 2h');
    expect((await s.ofSubject('user', 'ann')).map((v) => v.name).sort()).toEqual(['tea', 'walk']);
    expect(await s.counts()).toEqual({ remind: 2 });
  });

  it('leaves a schedule asked for again exactly as it stands: its rhythm, runs left and pause stay', async () => {
    const { x } = await store();
    const first = new SubjectSchedules(x.conn, x.config, () => NOW);
    const a = await first.add({ kind: 'remind', user: 'ann', rule: '30m', count: 5 });
    await first.pause(a.id);
    const later = new SubjectSchedules(x.conn, x.config, () => NOW + 600_000);
    const again = await later.add({ kind: 'remind', user: 'ann', rule: '30m', count: 5 });
    expect(again).toMatchObject({ id: a.id, state: 'paused', created: a.created, runs: [] });
    const changed = await later.add({ kind: 'remind', user: 'ann', rule: '30m', count: 4 });
    expect(changed).toMatchObject({ id: a.id, state: 'active', countLeft: 4, next: new Date(NOW + 600_000 + 1_800_000).toISOString() });
  });

  it('adds in bulk, each entry added or refused on its own', async () => {
    const { s } = await store();
    const r = await s.addMany([
      { kind: 'remind', user: 'u1', rule: '30m' },
      { kind: 'remind', user: 'u2', rule: 'every fortnightly' },
      { kind: 'water', item: 'fern', data: { litres: 0.5 }, rule: 'every monday and thursday at 18:00' },
    ]);
    expect(r[0]).toMatchObject({ user: 'u1', rule: 'every 30m' });
    expect(r[1]).toEqual({ error: expect.stringContaining('fortnightly') });
    expect(r[2]).toMatchObject({ item: 'fern', data: { litres: 0.5 }, rule: 'cron 0 18 * * 1,4' });
  });
});

describe('subject schedules: refusals name what was wrong', () => {
  it.each([
    [{ kind: 'nope', user: 'a', rule: '1h' }, /unknown kind "nope"/],
    [{ kind: 'tidy', rule: '1h' }, /global kind/],
    [{ kind: 'remind', item: 'x', rule: '1h' }, /user kind: give its user/],
    [{ kind: 'remind', user: 'a b', rule: '1h' }, /"a b" is not a user id: it holds other than letters/],
    [{ kind: 'remind', user: 'a', rule: '0 9 * * 8' }, /8|day/i],
    [{ kind: 'remind', user: 'a', rule: '1h', tz: 'Mars/Base' }, /Mars\/Base/],
    [{ kind: 'remind', user: 'a', rule: 'at 2020-01-01T00:00:00Z' }, /no run after/],
    [{ kind: 'remind', user: 'a', rule: '1h', until: '2027-01-04T10:30:00Z' }, /until .* before the first run/],
    [{ kind: 'water', item: 'fern', data: { litres: 'lots' }, rule: '1h' }, /schema/],
    [{ kind: 'remind', user: 'a', rule: '1h', colour: 'red' }, /Unrecognized key/],
    [{ kind: 'remind', user: 'a', rule: '1h', until: 1e16 }, /until 10000000000000000 is not an ISO 8601 time/],
    [{ kind: 'water', item: 'fern', data: { litres: 1, note: 'x'.repeat(2000) }, rule: '1h' }, /schema|at most 1024/],
  ])('%j', async (input, why) => {
    const { s } = await store();
    await expect(s.add(input)).rejects.toThrow(why);
    await expect(s.add(input)).rejects.toBeInstanceOf(ScheduleInputError);
    expect(await s.counts()).toEqual({});
  });

  it('refuses a subject past SPOTTER_JOBS_SCHEDULES_PER_SUBJECT, naming it', async () => {
    const { s } = await store({ SPOTTER_JOBS_SCHEDULES_PER_SUBJECT: '2' });
    await s.add({ kind: 'remind', user: 'a', rule: '1h', name: 'one' });
    await s.add({ kind: 'remind', user: 'a', rule: '1h', name: 'two' });
    await expect(s.add({ kind: 'remind', user: 'a', rule: '1h', name: 'three' })).rejects.toThrow(/SPOTTER_JOBS_SCHEDULES_PER_SUBJECT/);
    // Replacing one it holds is no new schedule.
    await expect(s.add({ kind: 'remind', user: 'a', rule: '3h', name: 'two' })).resolves.toMatchObject({ rule: 'every 3h' });
  });
});

describe('subject schedules: pause, resume, remove', () => {
  it('pausing takes the schedule out of the due index; resuming puts it back from now', async () => {
    const { x, s } = await store();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1h' });
    const due = scheduleDueKey(x.prefix, bucketOf(v.id));
    expect(await x.conn.zscore(due, v.id)).toBe(String(NOW + 3_600_000));
    expect(await s.pause(v.id)).toMatchObject({ state: 'paused', next: null });
    expect(await x.conn.zscore(due, v.id)).toBeNull();
    expect(await s.resume(v.id)).toMatchObject({ state: 'active', next: new Date(NOW + 3_600_000).toISOString() });
    expect(await x.conn.zscore(due, v.id)).toBe(String(NOW + 3_600_000));
  });

  it('removing deletes the definition, its index entries and its count', async () => {
    const { x, s } = await store();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1h' });
    expect(await s.remove(v.id)).toBe(true);
    expect(await s.remove(v.id)).toBe(false);
    expect(await s.get(v.id)).toBeUndefined();
    expect(await x.conn.hlen(scheduleSubjectKey(x.prefix, subjectShard('ann')))).toBe(0);
    expect(await x.conn.zcard(scheduleDueKey(x.prefix, bucketOf(v.id)))).toBe(0);
    expect(await s.counts()).toEqual({ remind: 0 });
  });
});

describe('subject schedules: listing', () => {
  it('pages through every schedule of a kind with a cursor', async () => {
    const { s } = await store();
    await s.addMany(
      Array.from({ length: 300 }, (_, i) => ({
        kind: i % 3 ? 'remind' : 'water',
        ...(i % 3 ? { user: `u${i}` } : { item: `p${i}` }),
        rule: '1h',
      })),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.list({ kind: 'remind', limit: 50, cursor });
      seen.push(...page.schedules.map((v) => v.user as string));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
  });
});

describe('subject schedules: until', () => {
  it("reads a wall time without offset in the schedule's zone", async () => {
    const { s } = await store();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1h', tz: 'Europe/Berlin', until: '2031-03-01T08:00' });
    expect(v.until).toBe('2031-03-01T07:00:00.000Z');
  });

  it("reads a date alone as through the end of that day in the schedule's zone, as an RRULE's UNTIL", async () => {
    const { s } = await store();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1h', tz: 'Europe/Berlin', until: '2031-03-01' });
    expect(v.until).toBe('2031-03-01T22:59:59.999Z');
    // Digits alone: an ISO year (or basic date) when short, epoch milliseconds from ten digits on.
    const year = await s.add({ kind: 'remind', user: 'ann', name: 'y', rule: '1h', tz: 'Europe/Berlin', until: '2099' });
    expect(year.until).toBe('2098-12-31T23:00:00.000Z');
    const ms = await s.add({ kind: 'remind', user: 'ann', name: 'ms', rule: '1h', until: '4070908800000' });
    expect(ms.until).toBe('2099-01-01T00:00:00.000Z');
  });
});

describe('subject schedules: the dense layout', () => {
  it("keeps a definition longer than Redis' dense limit in its bucket's own big hash, and still finds it", async () => {
    const { x, s } = await store();
    const limit = await denseValueLimit(x.conn);
    const long = await s.add({ kind: 'note', item: 'n1', data: { text: 'x'.repeat(limit) }, rule: '1h' });
    await s.addMany(Array.from({ length: 50 }, (_, i) => ({ kind: 'note', item: `n${i + 2}`, rule: '1h' })));
    const b = bucketOf(long.id);
    expect(await x.conn.hexists(scheduleBigKey(x.prefix, b), long.id)).toBe(1);
    expect(await x.conn.object('ENCODING', scheduleDefKey(x.prefix, b))).toBe('listpack');
    expect((await s.ofSubject('item', 'n1')).map((v) => v.data)).toEqual([{ text: 'x'.repeat(limit) }]);
    expect((await s.list({ kind: 'note' })).schedules).toHaveLength(51);
  });

  it("keeps a bucket's definitions and next runs in Redis' listpack encoding, and the bucket index exact", async () => {
    const { x, s } = await store();
    const added = await s.addMany(
      Array.from({ length: 200 }, (_, i) => ({
        kind: 'remind',
        user: `user-${i}`,
        rule: 'every weekday at 7:30',
        tz: 'Europe/Berlin',
        name: 'wake',
      })),
    );
    const first = added[0] as { id: string };
    const b = bucketOf(first.id);
    expect(await x.conn.object('ENCODING', scheduleDefKey(x.prefix, b))).toBe('listpack');
    expect(await x.conn.object('ENCODING', scheduleDueKey(x.prefix, b))).toBe('listpack');
    const [, min] = await x.conn.zrange(scheduleDueKey(x.prefix, b), 0, 0, 'WITHSCORES');
    expect(await x.conn.zscore(scheduleBucketsKey(x.prefix), b)).toBe(min);
  });
});
