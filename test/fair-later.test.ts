/**
 * Jobs that enter a fair kind later than their add pass admission like every other job: a delayed
 * add waits until due, then joins its owner's backlog; a dead letter replayed and a subject
 * schedule's run are filed in their owner's backlog too. A flood that comes through any of these
 * ways holds up no other owner.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { userCommand } from '../src/cli/commands.js';
import { backlogTable } from '../src/cli/owner.js';
import type { KindConfig } from '../src/config/kind-config.js';
import type { HandlerContext } from '../src/handlers/types.js';
import { addJob } from '../src/jobs/add-job.js';
import { PermanentError } from '../src/jobs/errors.js';
import { fairOf } from '../src/jobs/fair-admission.js';
import { kindBacklog, ownerBacklog } from '../src/jobs/fair-backlog.js';
import { addKeys, fairKeys } from '../src/jobs/fair-keys.js';
import { NO_OWNER } from '../src/jobs/owner.js';
import { kindByName } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { userReport } from '../src/ops/user.js';
import { Materialiser } from '../src/producers/materialiser.js';
import { scripted } from '../src/redis/commands.js';
import { SubjectSchedules } from '../src/schedules/subject/store.js';
import { addOwned, itemCatalog, recorder, startsAhead } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { newPrefix } from './helpers/redis.js';
import { scheduleCatalog } from './helpers/schedule-catalog.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0).reverse()) await h.dispose();
});

async function h(env: Record<string, string>, opts: Parameters<typeof harness>[1]): Promise<Harness> {
  const x = await harness(env, opts);
  open.push(x);
  return x;
}

const CONCURRENCY = 4;
const catalog = itemCatalog({ track: { concurrency: CONCURRENCY } });

function fairKind(x: Harness, name: string): KindConfig {
  const kind = kindByName(x.config, name);
  if (!kind?.fair) throw new Error(`${name} is not fair`);
  return kind;
}

/** `n` jobs of `owner`, each added with a delay of `delayMs`. */
async function addDelayed(x: Harness, kind: KindConfig, owner: string, n: number, delayMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await addJob(x.queues, {
      kind,
      subject: { id: `${owner}-${i}`, data: {}, owner },
      jobId: `${owner}__${i}`,
      scheduledFor: Date.now(),
      delayMs,
    });
  }
}

describe('delayed adds of a fair kind', () => {
  it("let a small owner's jobs through a big owner's flood of delayed jobs once it is due", async () => {
    const x = await h({}, { catalog });
    const kind = fairKind(x, 'track');
    const window = kind.fair?.window ?? 0;
    await addDelayed(x, kind, 'big', 400, 50);
    const rec = recorder(2);
    consumeKinds(x, { track: rec.run }, ['track']);
    await waitFor('the flood running', () => rec.starts.length >= 40);
    const startsAtAdd = rec.starts.length;
    await addOwned(x, 'track', 'small', 5);
    await waitFor("the small owner's five done", () => rec.ends.filter((id) => id.startsWith('small-')).length === 5);
    const bigBefore = startsAhead(rec.starts, startsAtAdd, 'small', 'big');
    // As for jobs added without a delay: the window, one big job per small one, the jobs running.
    // Due jobs that skipped admission would all be ahead (some 350).
    expect(bigBefore).toBeLessThanOrEqual(window + 5 + CONCURRENCY);
  });

  it("are counted per owner in `user <id>` and `owner weight`, one owner's apart from another's", async () => {
    const x = await h({}, { catalog });
    const kind = fairKind(x, 'track');
    // u1 and u10: one owner's name begins the other's, and their counts stay apart.
    await addDelayed(x, kind, 'u1', 3, 600_000);
    await addDelayed(x, kind, 'u10', 2, 600_000);
    // Two with no owner, filed under `*`: a glob character, which must match itself only.
    for (const i of [0, 1])
      await addJob(x.queues, {
        kind,
        subject: { id: `none-${i}`, data: {} },
        jobId: `none__${i}`,
        scheduledFor: Date.now(),
        delayMs: 600_000,
      });
    expect(await ownerBacklog(x.conn, x.prefix, kind, 'u10')).toMatchObject({ waiting: 0, later: 2, laterAtLeast: false });
    expect(await ownerBacklog(x.conn, x.prefix, kind, NO_OWNER)).toMatchObject({ later: 2, laterAtLeast: false });
    // A count cut short says so, and is shown even when it found none of the owner's.
    await x.conn.zadd(fairKeys(x.prefix, kind).later, ...Array.from({ length: 3000 }, (_, i) => [Date.now() + 600_000, `big ${i}`]).flat());
    const cut = await ownerBacklog(x.conn, x.prefix, kind, 'u10', 1);
    expect(cut.laterAtLeast).toBe(true);
    expect(backlogTable([{ kind: 'track', ...cut, later: 0 }])).toMatch(/track\s+0\s+-\s+at least 0/);
    const r = await userReport(x.queues, x.config, 'u1');
    expect(r.known).toBe(true);
    expect(r.backlog).toEqual([expect.objectContaining({ kind: 'track', waiting: 0, later: 3, laterAtLeast: false })]);
    const lines: string[] = [];
    await userCommand(x.config, 'u10', {}, (s) => lines.push(s));
    const text = lines.join('\n');
    expect(text).toContain('DUE LATER');
    expect(text).toMatch(/track\s+0\s+-\s+2/);
  });

  it('are filed for later, shown as such, and each run once when due', async () => {
    const x = await h({}, { catalog });
    const kind = fairKind(x, 'track');
    // Due well after the checks below, even on a loaded machine, so no refill has moved them yet.
    await addDelayed(x, kind, 'ann', 3, 1500);
    expect(await x.queues.get('track').getJobCountByTypes('delayed', 'waiting')).toBe(0);
    expect(await kindBacklog(x.conn, x.prefix, kind)).toMatchObject({ later: 3, waiting: 0 });
    const rec = recorder(1);
    consumeKinds(x, { track: rec.run }, ['track']);
    await waitFor('the three done', () => rec.ends.length >= 3);
    expect(rec.ends.sort()).toEqual(['ann-0', 'ann-1', 'ann-2']);
    expect(await kindBacklog(x.conn, x.prefix, kind)).toMatchObject({ later: 0, waiting: 0 });
  });

  it('go into the queue as delayed jobs when the kind is no longer fair, still not due', async () => {
    const prefix = newPrefix();
    const before = await h({}, { prefix, catalog });
    const filedFrom = Date.now();
    await addDelayed(before, fairKind(before, 'track'), 'ann', 2, 60_000);
    const filedBy = Date.now();
    await before.lifecycle.shutdown();
    const x = await h({ SPOTTER_JOBS_TRACK_FAIR: 'false' }, { prefix, catalog });
    const track = kindByName(x.config, 'track') as KindConfig;
    expect(await fairOf(x.queues).drain(track)).toBe(2);
    const queue = x.queues.get('track');
    expect(await queue.getDelayedCount()).toBe(2);
    const job = await queue.getJob('ann__0');
    // Due when it was filed for, a minute after its add: BullMQ makes a job due at its timestamp plus its delay.
    const due = (job?.timestamp ?? 0) + (job?.opts.delay ?? 0);
    expect(due).toBeGreaterThanOrEqual(filedFrom + 60_000);
    expect(due).toBeLessThanOrEqual(filedBy + 60_000);
    expect(await x.conn.zcard(fairKeys(prefix, track).later)).toBe(0);
  });
});

describe('a dead letter of a fair kind replayed', () => {
  it("waits in its owner's backlog behind no other owner's flood, and runs once", async () => {
    const x = await h({ SPOTTER_JOBS_ATTEMPTS: '1' }, { catalog });
    const kind = fairKind(x, 'track');
    let failFirst = true;
    const rec = recorder(1);
    const consumers = consumeKinds(
      x,
      {
        track: async (item: { id: string }, ctx: HandlerContext) => {
          if (item.id === 'bad-0' && failFirst) {
            failFirst = false;
            throw new PermanentError('first time fails');
          }
          return (rec.run as (i: unknown, c: unknown) => Promise<unknown>)(item, ctx);
        },
      },
      ['track'],
    );
    await addOwned(x, 'track', 'bad', 1);
    await waitFor('a dead letter', async () => (await x.deadLetters.count()) === 1);
    await consumers.close();
    // The window full of another owner's jobs, and more of them waiting.
    await addOwned(x, 'track', 'big', 40);
    await fairOf(x.queues).settle(kind);
    const replayed = await x.deadLetters.replay({ all: true });
    expect(replayed.replayed).toEqual(['bad__0__replay']);
    expect(await x.queues.get('track').getJob('bad__0__replay')).toBeUndefined();
    expect(await ownerBacklog(x.conn, x.prefix, kind, 'bad')).toMatchObject({ waiting: 1 });
    consumeKinds(x, { track: rec.run }, ['track']);
    await waitFor('all done', () => rec.ends.length >= 41);
    expect(rec.ends.filter((id) => id === 'bad-0')).toHaveLength(1);
  });
});

describe("a subject schedule's run of a fair kind", () => {
  it('is filed for later, not added again while it waits there, and runs once', async () => {
    const base = Date.now();
    const x = await h({ SPOTTER_JOBS_SCHEDULE_WINDOW: '1m', SPOTTER_JOBS_REMIND_FAIR: 'true' }, { catalog: scheduleCatalog });
    const kind = fairKind(x, 'remind');
    let now = base;
    const s = new SubjectSchedules(x.conn, x.config, () => now);
    await s.add({ kind: 'remind', user: 'ann', rule: `at ${new Date(base + 1500).toISOString()}` });
    const producer = new Materialiser({ config: x.config, queues: x.queues, log: x.log }, () => now);
    expect(await producer.pass()).toMatchObject({ added: 1 });
    expect(await x.conn.zcard(fairKeys(x.prefix, kind).later)).toBe(1);
    expect(await x.queues.get('remind').getJobCountByTypes('delayed', 'waiting')).toBe(0);
    // Past the grace, with its job still waiting for admission: not added again.
    now = base + producer.graceMs + 1;
    expect(await producer.pass()).toMatchObject({ recovered: 0 });
    const rec = recorder(1);
    consumeKinds(x, { remind: rec.run }, ['remind']);
    await waitFor('the run done', () => rec.ends.length >= 1, { timeoutMs: 15_000 });
    expect(await x.queues.get('remind').getCompletedCount()).toBe(1);
  });

  it("of a user kind is not merged into the user's waiting job, nor that job into it", async () => {
    const base = Date.now();
    const x = await h({ SPOTTER_JOBS_SCHEDULE_WINDOW: '1m', SPOTTER_JOBS_REMIND_FAIR: 'true' }, { catalog: scheduleCatalog });
    const kind = fairKind(x, 'remind');
    const s = new SubjectSchedules(x.conn, x.config, () => base);
    await s.add({ kind: 'remind', user: 'ann', rule: `at ${new Date(base + 1000).toISOString()}` });
    const producer = new Materialiser({ config: x.config, queues: x.queues, log: x.log }, () => base);
    expect(await producer.pass()).toMatchObject({ added: 1 });
    await trigger(x.queues, x.config, kind, { userId: 'ann' });
    const later = fairKeys(x.prefix, kind).later;
    await waitFor('the run due and admitted', async () => {
      await fairOf(x.queues).settle(kind);
      return (await x.conn.zcard(later)) === 0;
    });
    expect(await x.queues.get('remind').getWaitingCount()).toBe(2);
    await trigger(x.queues, x.config, kind, { userId: 'ann' });
    await fairOf(x.queues).settle(kind);
    expect(await x.queues.get('remind').getWaitingCount()).toBe(2);
  });

  it("lets the user's triggers coalesce behind the run waiting in the user's backlog", async () => {
    const base = Date.now();
    const env = { SPOTTER_JOBS_SCHEDULE_WINDOW: '1m', SPOTTER_JOBS_REMIND_FAIR: 'true', SPOTTER_JOBS_REMIND_FAIR_WINDOW: '1' };
    const x = await h(env, { catalog: scheduleCatalog });
    const kind = fairKind(x, 'remind');
    // Bob's job takes the window (1), so ann's wait in her backlog: the run first.
    await trigger(x.queues, x.config, kind, { userId: 'bob' });
    const s = new SubjectSchedules(x.conn, x.config, () => base);
    await s.add({ kind: 'remind', user: 'ann', rule: `at ${new Date(base + 500).toISOString()}` });
    await new Materialiser({ config: x.config, queues: x.queues, log: x.log }, () => base).pass();
    const k = fairKeys(x.prefix, kind);
    await waitFor('the run in her backlog', async () => {
      await fairOf(x.queues).settle(kind);
      return (await x.conn.llen(`${k.backlogPrefix}ann`)) === 1;
    });
    const first = await trigger(x.queues, x.config, kind, { userId: 'ann' });
    const second = await trigger(x.queues, x.config, kind, { userId: 'ann' });
    expect(second).toMatchObject({ jobId: first.jobId, coalesced: true });
    expect(await x.conn.llen(`${k.backlogPrefix}ann`)).toBe(2);
  });

  it('admits a user job filed by an earlier version (no coalescing flag) with its coalescing', async () => {
    const x = await h({ SPOTTER_JOBS_SYNC_FAIR: 'true' }, { catalog: scheduleCatalog });
    const kind = fairKind(x, 'sync');
    const k = fairKeys(x.prefix, kind);
    const spec = JSON.stringify({ t: Date.now(), d: { userId: 'ann', scheduledFor: Date.now() } });
    await scripted(x.conn).sjFairAdd(...addKeys(k), 'old__ann', spec, 'ann', '1', '0');
    await fairOf(x.queues).settle(kind);
    expect(await x.queues.get('sync').getDeduplicationJobId('ann')).toBe('old__ann');
  });
});
