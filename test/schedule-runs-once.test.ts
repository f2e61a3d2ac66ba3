/**
 * A subject schedule's run happens once, and only while the schedule asks for it: a late second job
 * of a run is not run, nor a run of a schedule removed, paused or replaced after its job was made;
 * a run whose data fails leaves pending; a kind a producer does not know keeps its due time;
 * recovery is not blocked by runs of kinds it does not know.
 */
import { describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import { loadConfig } from '../src/config/load.js';
import type { Handlers } from '../src/handlers/types.js';
import { kindsOf } from '../src/jobs/registry.js';
import { Materialiser } from '../src/producers/materialiser.js';
import { UNPARK_PER_LOOK } from '../src/producers/materialiser-recovery.js';
import { scheduleParkedKey, schedulePendingKey } from '../src/redis/keys.js';
import { versionOf } from '../src/schedules/subject/codec.js';
import { occurrenceJob, occurrenceJobId } from '../src/schedules/subject/occurrence-job.js';
import { MAX_BULK, SubjectSchedules } from '../src/schedules/subject/store.js';
import { Consumers } from '../src/workers/consumer.js';
import type { Harness } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { testEnv } from './helpers/redis.js';
import { scheduleCatalog as catalog } from './helpers/schedule-catalog.js';
import { waitFor } from './helpers/wait-for.js';

const { h, onCleanup } = useHarnesses();

async function setup() {
  const x = await h({ SPOTTER_JOBS_SCHEDULE_WINDOW: '1m' }, { catalog });
  const s = new SubjectSchedules(x.conn, x.config);
  const producer = (now?: () => number) => new Materialiser({ config: x.config, queues: x.queues, log: x.log }, now);
  const ran: string[] = [];
  const consume = () => {
    const handlers: Handlers = {
      mode: 'module',
      listUsers: async function* () {},
      run: { remind: async (u: unknown) => void ran.push(String(u)) },
    };
    const c = new Consumers(
      { ...x, handlers },
      kindsOf(x.config).filter((k) => k.name === 'remind'),
    );
    c.start();
    onCleanup(() => c.close());
  };
  return { x, s, producer, ran, consume };
}

const completed = (x: Harness, n: number) => async () => ((await x.queues.get('remind').getCompletedCount()) >= n ? true : undefined);
const soon = (ms: number) => `at ${new Date(Date.now() + ms).toISOString()}`;

describe('a run of a subject schedule', () => {
  it('runs once when a late second job of it comes after the first ran and was removed', async () => {
    const { x, s, producer, ran, consume } = await setup();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: soon(500) });
    const at = Date.parse(v.next as string);
    const [def] = await s.definitions([v.id]);
    await producer().pass();
    consume();
    await waitFor('the run', completed(x, 1));
    await (await x.queues.get('remind').getJob(occurrenceJobId(v.id, at)))?.remove();
    // A producer that stalled past the grace adds its job only now.
    const late = occurrenceJob(x.config.kinds.remind as never, v.id, def?.def as never, at, 0, versionOf(def?.text ?? ''));
    await x.queues.get('remind').add(late.name, late.data, late.opts);
    await waitFor('the late job done', completed(x, 1));
    const job = await x.queues.get('remind').getJob(occurrenceJobId(v.id, at));
    await waitFor('the late job settled', async () => ((await job?.getState()) === 'completed' ? true : undefined));
    expect((await x.queues.get('remind').getJob(occurrenceJobId(v.id, at)))?.returnvalue).toEqual({ skipped: 'duplicate' });
    expect(ran).toEqual(['ann']);
  });

  it.each(['remove', 'pause', 'replace'] as const)('does not run once its schedule was %sd after its job was made', async (change) => {
    const { x, s, producer, ran, consume } = await setup();
    // Every second: a pass makes a job of each run within the window, the first due in a second.
    const v = await s.add({ kind: 'remind', user: 'ann', rule: 'every 1s' });
    expect((await producer().pass()).added).toBeGreaterThan(1);
    if (change === 'remove') await s.remove(v.id);
    if (change === 'pause') await s.pause(v.id);
    if (change === 'replace') await s.add({ kind: 'remind', user: 'ann', rule: 'every day at 08:00' });
    consume();
    await waitFor('the first job settled', completed(x, 1));
    const [job] = await x.queues.get('remind').getCompleted(0, 0);
    expect(job?.returnvalue).toEqual({ skipped: `${change}d` });
    expect(ran).toEqual([]);
  });

  it('runs once when its schedule was replaced after its job was made by one that keeps the run', async () => {
    const { x, s, producer, ran, consume } = await setup();
    const rule = soon(1500);
    const v = await s.add({ kind: 'remind', user: 'ann', rule });
    expect((await producer().pass()).added).toBe(1);
    // The same run, now with an until: a new definition, which adopts the job made for the run.
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect(await s.add({ kind: 'remind', user: 'ann', rule, until })).toMatchObject({ id: v.id, next: v.next });
    // Taken for the new definition; the job is there already, so none is added.
    expect((await producer().pass()).added).toBe(1);
    expect(await s.get(v.id)).toMatchObject({ state: 'ended' });
    consume();
    await waitFor('the run', completed(x, 1));
    const [job] = await x.queues.get('remind').getCompleted(0, 0);
    expect(job?.returnvalue).toBeNull();
    expect(ran).toEqual(['ann']);
    expect(await x.conn.zcard(schedulePendingKey(x.prefix))).toBe(0);
  });

  it('leaves pending when its job fails on its data, so it is never added again', async () => {
    const { x, s, consume } = await setup();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1h' });
    const [def] = await s.definitions([v.id]);
    await x.conn.zadd(schedulePendingKey(x.prefix), Date.now(), `${v.id}:1000`);
    // Written past every check, as the board's "add job" could: a user id the kind refuses.
    const data = { userId: 'a b', scheduledFor: 1000, schedule: v.id, sv: versionOf(def?.text ?? '') };
    await x.queues.get('remind').add('user', data, { jobId: `sched__${v.id}__1000`, attempts: 1 });
    consume();
    await waitFor('the job dead-lettered', async () => ((await x.deadLetters.count()) === 1 ? true : undefined));
    expect(await x.conn.zcard(schedulePendingKey(x.prefix))).toBe(0);
  });
});

describe('a producer that does not know a kind', () => {
  it('sets its schedules aside at their due time; one that knows it puts them back and runs them then', async () => {
    const { x, s } = await setup();
    const v = await s.add({ kind: 'remind', user: 'ann', rule: soon(20_000) });
    const at = Date.parse(v.next as string);
    const older = loadConfig(testEnv(x.prefix), builtinCatalog());
    await new Materialiser({ config: older, queues: x.queues, log: x.log }).pass();
    expect(await x.conn.zscore(scheduleParkedKey(x.prefix), v.id)).toBe(String(at));
    expect(await x.queues.get('remind').getJobCountByTypes('delayed', 'waiting')).toBe(0);
    await new Materialiser({ config: x.config, queues: x.queues, log: x.log }).pass();
    expect(await x.conn.zcard(scheduleParkedKey(x.prefix))).toBe(0);
    expect((await x.queues.get('remind').getJob(occurrenceJobId(v.id, at)))?.data).toMatchObject({ scheduledFor: at });
  });

  it('does not let schedules of a kind no producer knows any more hide the parked ones behind them', async () => {
    const { x, s } = await setup();
    const t0 = Date.now();
    const water = (i: number) => ({ kind: 'water', item: `p${i}`, data: { litres: 1 }, rule: soon(20_000) });
    for (let from = 0; from <= UNPARK_PER_LOOK; from += MAX_BULK) {
      const page = Array.from({ length: Math.min(MAX_BULK, UNPARK_PER_LOOK + 1 - from) }, (_, i) => water(from + i));
      expect((await s.addMany(page)).filter((w) => 'error' in w).slice(0, 1)).toEqual([]);
    }
    const v = await s.add({ kind: 'remind', user: 'ann', rule: soon(30_000) });
    const at = Date.parse(v.next as string);
    // A producer of an older catalog sets all of them aside, the remind schedule last (latest due).
    await new Materialiser({ config: loadConfig(testEnv(x.prefix), builtinCatalog()), queues: x.queues, log: x.log }).pass();
    expect(await x.conn.zcard(scheduleParkedKey(x.prefix))).toBe(UNPARK_PER_LOOK + 2);
    // This catalog knows remind, and water no more; its producer looks at the parked ones each minute.
    let now = t0;
    const current = loadConfig(testEnv(x.prefix), { ...builtinCatalog(), remind: catalog.remind as never });
    const p = new Materialiser({ config: current, queues: x.queues, log: x.log }, () => now);
    for (let minute = 0; minute < 3; minute++, now += 60_000) await p.pass();
    expect(await x.conn.zscore(scheduleParkedKey(x.prefix), v.id)).toBeNull();
    expect((await x.queues.get('remind').getJob(occurrenceJobId(v.id, at)))?.data).toMatchObject({ scheduledFor: at });
  });

  it('does not block recovery of the runs of kinds it knows', async () => {
    const { x, s } = await setup();
    const pending = schedulePendingKey(x.prefix);
    const water = await s.addMany(Array.from({ length: 600 }, (_, i) => ({ kind: 'water', item: `p${i}`, rule: '1h' })));
    for (const w of water) if (!('error' in w)) await x.conn.zadd(pending, 1, `${w.id}:${Date.parse(w.next as string)}`);
    const v = await s.add({ kind: 'remind', user: 'ann', rule: '1h' });
    const at = Date.parse(v.next as string);
    await x.conn.zadd(pending, 2, `${v.id}:${at}`);
    const older = loadConfig(testEnv(x.prefix), { ...builtinCatalog(), remind: catalog.remind as never });
    const p = new Materialiser({ config: older, queues: x.queues, log: x.log });
    await p.pass();
    await p.pass();
    expect(await x.queues.get('remind').getJob(occurrenceJobId(v.id, at))).toBeDefined();
  });
});
