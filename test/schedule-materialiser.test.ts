/**
 * The materialiser: subject schedules become delayed jobs only inside the execution window, each
 * occurrence once however many producers take it, count/until/once end a schedule, missed runs
 * follow the kind's catch-up, and a run whose producer died before adding it is added once.
 */
import { describe, expect, it } from 'vitest';
import type { Handlers } from '../src/handlers/types.js';
import { fairKeys } from '../src/jobs/fair-keys.js';
import { kindsOf } from '../src/jobs/registry.js';
import { Materialiser } from '../src/producers/materialiser.js';
import { scripted } from '../src/redis/commands.js';
import { scheduleAskedKey, scheduleBaseKey, schedulePendingKey } from '../src/redis/keys.js';
import { bucketOf, versionOf } from '../src/schedules/subject/codec.js';
import { occurrenceJobId } from '../src/schedules/subject/occurrence-job.js';
import { SubjectSchedules } from '../src/schedules/subject/store.js';
import { Consumers } from '../src/workers/consumer.js';
import type { Harness } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { scheduleCatalog as catalog } from './helpers/schedule-catalog.js';
import { waitFor } from './helpers/wait-for.js';

const { h, onCleanup } = useHarnesses();
const MIN = 60_000;

async function setup(start: number) {
  const x = await h({ SPOTTER_JOBS_SCHEDULE_WINDOW: '1m' }, { catalog });
  let now = start;
  const clock = { set: (t: number) => (now = t), get: () => now };
  const s = new SubjectSchedules(x.conn, x.config, () => now);
  const producer = () => new Materialiser({ config: x.config, queues: x.queues, log: x.log }, () => now);
  return { x, s, clock, producer };
}

function run(x: Harness, names: string[], handler: (data: unknown) => Promise<void>) {
  const handlers: Handlers = {
    mode: 'module',
    listUsers: async function* () {},
    run: Object.fromEntries(names.map((n) => [n, (...a: unknown[]) => handler(a[0])])),
  };
  const c = new Consumers(
    { ...x, handlers },
    kindsOf(x.config).filter((k) => names.includes(k.name)),
  );
  c.start();
  onCleanup(() => c.close());
}

describe('materialising subject schedules', () => {
  it('adds a delayed job, with an id of schedule and run, only once the run is inside the window', async () => {
    const base = Date.now();
    const { x, s, producer } = await setup(base);
    const soon = await s.add({ kind: 'remind', user: 'ann', rule: `at ${new Date(base + 30_000).toISOString()}` });
    const later = await s.add({ kind: 'remind', user: 'bob', rule: `at ${new Date(base + 2 * 3_600_000).toISOString()}` });
    expect(await producer().pass()).toMatchObject({ added: 1 });
    const at = Date.parse(soon.next as string);
    const job = await x.queues.get('remind').getJob(occurrenceJobId(soon.id, at));
    expect(job?.data).toEqual({ userId: 'ann', scheduledFor: at, schedule: soon.id, sv: expect.stringMatching(/^[0-9a-f]{10}$/) });
    expect(job ? job.timestamp + (job.opts.delay ?? 0) : 0).toBeGreaterThanOrEqual(at - 50);
    expect(await x.queues.get('remind').getJobCountByTypes('delayed', 'waiting')).toBe(1);
    expect(await s.get(soon.id)).toMatchObject({ state: 'ended', next: null });
    expect(await s.get(later.id)).toMatchObject({ state: 'active' });
    expect(await producer().pass()).toMatchObject({ added: 0 });
  });

  it('takes each occurrence once when two producers pass at the same time', async () => {
    const base = Date.now();
    const { x, s, producer } = await setup(base);
    const at = new Date(base + 20_000).toISOString();
    await s.addMany(Array.from({ length: 300 }, (_, i) => ({ kind: 'remind', user: `u${i}`, rule: `at ${at}` })));
    const [a, b] = await Promise.all([producer().pass(), producer().pass()]);
    expect((a?.added ?? 0) + (b?.added ?? 0)).toBe(300);
    expect(await x.queues.get('remind').getJobCountByTypes('delayed', 'waiting')).toBe(300);
  });

  it('ends a schedule at its count and at its until', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000;
    const { s, clock, producer } = await setup(base);
    const counted = await s.add({ kind: 'remind', user: 'ann', rule: '1m', count: 2 });
    const until = await s.add({ kind: 'remind', user: 'bob', rule: '1m', until: new Date(base + 90_000).toISOString() });
    clock.set(base + 1000);
    expect(await producer().pass()).toMatchObject({ added: 2 });
    expect(await s.get(counted.id)).toMatchObject({ state: 'active', countLeft: 1 });
    expect(await s.get(until.id)).toMatchObject({ state: 'ended' });
    clock.set(base + MIN + 1000);
    expect(await producer().pass()).toMatchObject({ added: 1 });
    expect(await s.get(counted.id)).toMatchObject({ state: 'ended', countLeft: 0, next: null });
    clock.set(base + 3 * MIN);
    expect(await producer().pass()).toMatchObject({ added: 0 });
  });

  it('resumed inside the window, goes on after the run whose job was made: no run spends its count twice', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000;
    const { x, s, clock, producer } = await setup(base);
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1m', count: 3 });
    clock.set(base + 30_000);
    expect(await producer().pass()).toMatchObject({ added: 1 });
    expect(await s.get(v.id)).toMatchObject({ countLeft: 2, next: new Date(base + 2 * MIN).toISOString() });
    clock.set(base + 35_000);
    await s.pause(v.id);
    clock.set(base + 40_000);
    // The run at 1 min has its job already; it runs (the schedule is active again when it starts).
    expect(await s.resume(v.id)).toMatchObject({ state: 'active', countLeft: 2, next: new Date(base + 2 * MIN).toISOString() });
    clock.set(base + 45_000);
    expect(await producer().pass()).toMatchObject({ added: 0 });
    expect(await s.get(v.id)).toMatchObject({ countLeft: 2 });
    expect(await x.queues.get('remind').getJobCountByTypes('delayed', 'waiting')).toBe(1);
  });

  it('keeps its runs left when a handler adds the same counted schedule again after each run, and ends', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000;
    const { x, s, clock, producer } = await setup(base);
    const ask = { kind: 'remind', user: 'ann', rule: '1m', count: 2 };
    const v = await s.add(ask);
    clock.set(base + 30_000);
    expect(await producer().pass()).toMatchObject({ added: 1 });
    expect(await s.add(ask)).toMatchObject({ id: v.id, created: v.created, countLeft: 1, next: new Date(base + 2 * MIN).toISOString() });
    clock.set(base + 90_000);
    expect(await producer().pass()).toMatchObject({ added: 1 });
    expect(await s.add(ask)).toMatchObject({ id: v.id, state: 'ended', countLeft: 0 });
    expect(await x.conn.hget(scheduleAskedKey(x.prefix, String(bucketOf(v.id))), v.id)).toBe('2');
    // A different count is a new count.
    expect(await s.add({ ...ask, count: 3 })).toMatchObject({ id: v.id, state: 'active', countLeft: 3 });
    expect(await x.conn.hget(scheduleAskedKey(x.prefix, String(bucketOf(v.id))), v.id)).toBeNull();
  });

  it('adopts, on a replacement that keeps its run, the job of a fair kind still waiting for admission', async () => {
    const base = Date.now();
    const { x, s, producer } = await setup(base);
    const rule = `at ${new Date(base + 30_000).toISOString()}`;
    const v = await s.add({ kind: 'note', item: 'n1', data: { a: 1 }, rule });
    const at = Date.parse(v.next as string);
    expect(await producer().pass()).toMatchObject({ added: 1 });
    const specs = fairKeys(x.prefix, x.config.kinds.note as never).specs;
    const spec = async () => (await x.conn.hget(specs, occurrenceJobId(v.id, at))) ?? '';
    expect(await spec()).toContain('"sv":"');
    await s.add({ kind: 'note', item: 'n1', data: { a: 1 }, rule, until: new Date(base + 3_600_000).toISOString() });
    const [now] = await s.definitions([v.id]);
    expect(await spec()).toContain(`"sv":"${versionOf(now?.text ?? '')}"`);
  });

  it("follows the kind's catch-up for missed runs: skip drops them, the default runs one late", async () => {
    const base = Math.floor(Date.now() / 1000) * 1000;
    const { s, clock, producer } = await setup(base);
    const skip = await s.add({ kind: 'chore', user: 'ann', rule: '1m' });
    const once = await s.add({ kind: 'remind', user: 'ann', rule: '1m' });
    clock.set(base + 10 * MIN + 500);
    // remind's missed run, late; then each schedule's run at 11 min, inside the window: both go on
    // from now, not from the nine runs they missed.
    expect(await producer().pass()).toMatchObject({ added: 3, skipped: 1 });
    expect(await s.get(skip.id)).toMatchObject({ next: new Date(base + 12 * MIN).toISOString() });
    expect(await s.get(once.id)).toMatchObject({ next: new Date(base + 12 * MIN).toISOString() });
  });
});

describe('a producer that died between taking a run and adding its job', () => {
  it('leaves the run pending; a later pass adds it once, and never again once it has run', async () => {
    const base = Date.now();
    const { x, s, clock, producer } = await setup(base);
    const v = await s.add({ kind: 'remind', user: 'ann', rule: `at ${new Date(base + 2000).toISOString()}` });
    const at = Date.parse(v.next as string);
    const [def] = await s.definitions([v.id]);
    // What a producer does before it adds the job: the run is taken, the schedule moved on.
    const taken = await scripted(x.conn).sjSchedCommit(
      scheduleBaseKey(x.prefix),
      String(base),
      '64',
      v.id,
      String(at),
      def?.text ?? '',
      '',
      '',
      '1',
      String(at),
    );
    expect(taken).toEqual([1]);
    const p = producer();
    expect(await p.pass()).toMatchObject({ added: 0, recovered: 0 }); // within the grace
    clock.set(base + p.graceMs + 1);
    expect(await p.pass()).toMatchObject({ recovered: 1 });
    clock.set(base + 2 * p.graceMs + 2);
    expect(await p.pass()).toMatchObject({ recovered: 0 }); // its job is there
    const ran: unknown[] = [];
    run(x, ['remind'], async (userId) => {
      ran.push(userId);
    });
    await waitFor('the run to complete', async () => (await x.queues.get('remind').getCompletedCount()) === 1 || undefined, {
      timeoutMs: 15_000,
    });
    expect(await x.conn.zcard(schedulePendingKey(x.prefix))).toBe(0);
    await (await x.queues.get('remind').getJob(occurrenceJobId(v.id, at)))?.remove();
    clock.set(base + 10 * p.graceMs);
    expect(await p.pass()).toMatchObject({ recovered: 0 });
    expect(ran).toEqual(['ann']);
  });
});
