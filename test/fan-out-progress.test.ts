/**
 * Every user gets their turn: ticks that supersede each other go on where the schedule's listing
 * stands and wrap round, a page larger than the window is added in parts, a tick's counts add up, and
 * an unreadable cursor starts the listing again instead of failing the tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KindConfig } from '../src/config/kind-config.js';
import type { ListPosition, UserPage } from '../src/handlers/list-position.js';
import type { Handlers } from '../src/handlers/types.js';
import { fanOut } from '../src/producers/fan-out.js';
import type { FanOutProgress } from '../src/producers/tick.js';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { lastTick } from '../src/schedules/tick-record.js';
import { Consumers } from '../src/workers/consumer.js';
import { testHandlers } from './helpers/handlers.js';
import { capturingLogger, type Harness, harness } from './helpers/harness.js';
import { keysetListing, syncTick as tick } from './helpers/listings.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});
async function h(env: Record<string, string> = {}, log?: ReturnType<typeof capturingLogger>['log']): Promise<Harness> {
  const x = await harness({ SPOTTER_JOBS_SYNC_EXCLUSIVE: 'none', ...env }, log ? { log } : {});
  open.push(x);
  return x;
}
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${String(i + 1).padStart(2, '0')}`);
async function notStarted(x: Harness): Promise<number> {
  const c = await x.queues.get('sync').getJobCounts('waiting', 'prioritized', 'delayed');
  return (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
}
async function drained(x: Harness): Promise<boolean> {
  return (await notStarted(x)) === 0 && (await x.queues.get('sync').getActiveCount()) === 0;
}

describe('ticks that supersede each other', () => {
  it('go on where the last one stopped and wrap round: every user runs once before any user runs twice', async () => {
    // 60 users, one slow worker slot, window 10: each tick is superseded long before it could reach
    // the end of the listing, as with a sync interval shorter than the time the workers need.
    const x = await h({ SPOTTER_JOBS_SYNC_CONCURRENCY: '1' });
    const ids = users(60);
    const order: string[] = [];
    const handlers = testHandlers(ids, async (userId) => {
      order.push(userId);
      await new Promise((r) => setTimeout(r, 10));
      return null;
    });
    const consumers = new Consumers({ ...x, handlers }, [x.config.kinds.sync as KindConfig]);
    consumers.start();
    const ticks: Promise<FanOutProgress>[] = [];
    // A new tick every 15 runs: 12 ticks, about three rounds of the listing.
    for (let k = 1; k <= 12; k++) {
      await waitFor(`${15 * (k - 1)} runs`, () => order.length >= 15 * (k - 1));
      ticks.push(fanOut({ ...x, handlers }, tick(x, k * 1000, 10)));
    }
    const results = await Promise.all(ticks);
    await waitFor('the queue drained', () => drained(x));
    await consumers.close();

    const firstRunOfLast = Math.max(...ids.map((u) => order.indexOf(u)));
    const secondRuns = ids.map((u) => order.indexOf(u, order.indexOf(u) + 1)).filter((i) => i >= 0);
    expect(ids.filter((u) => !order.includes(u))).toEqual([]);
    expect(secondRuns.length).toBeGreaterThan(0);
    expect(Math.min(...secondRuns)).toBeGreaterThan(firstRunOfLast);
    // Each tick began where the one before it stopped; all but the last were superseded by a newer one
    // (the next, or one after it when two started while it waited for room).
    for (let k = 1; k < results.length; k++) {
      const before = results[k - 1] as FanOutProgress;
      expect(before.superseded).toBe(true);
      expect(Number(before.supersededBy?.split(':')[2])).toBeGreaterThan(k * 1000);
      expect(results[k]?.listing?.from).toBe((before.listing?.reached ?? -1) % 60);
    }
    expect(results.at(-1)?.superseded).toBeUndefined();
  }, 60_000);
});

/** A cursor listing that ignores the limit it is asked for and answers pages of 25. */
function oversizedPages(ids: string[]): Handlers {
  const size = 25;
  async function* listFrom(from: ListPosition): AsyncIterable<UserPage> {
    let page = from.token ? Number(from.token.slice(1)) : 0;
    let skip = from.skip;
    while (page * size < ids.length) {
      const chunk = ids.slice(page * size, page * size + size);
      page++;
      skip += chunk.length;
      yield { users: chunk, next: { skip, ...(page * size < ids.length ? { token: `p${page}` } : {}) } };
    }
  }
  const base = testHandlers(ids);
  return { ...base, listFrom: (from) => listFrom(from) };
}

describe('a page larger than the window', () => {
  it('is added in parts as room comes, and a newer tick goes on from the middle of it', async () => {
    const x = await h();
    const ids = users(50);
    const handlers = oversizedPages(ids);
    // No worker yet: the older tick adds two parts of five, then waits for room (never for a negative count).
    const older = fanOut({ ...x, handlers }, tick(x, 1000, 10));
    await waitFor('the window full', async () => (await notStarted(x)) === 10);
    const newer = fanOut({ ...x, handlers }, tick(x, 2000, 10));
    const o = await older;
    expect(o).toMatchObject({ superseded: true, users: 10, added: 10, listing: { from: 0, reached: 10 } });
    const runs = new Map<string, number>();
    const run = testHandlers(ids, async (userId) => {
      runs.set(userId, (runs.get(userId) ?? 0) + 1);
      return null;
    });
    const consumers = new Consumers({ ...x, handlers: run }, [x.config.kinds.sync as KindConfig]);
    consumers.start();
    const n = await newer;
    await waitFor('the queue drained', () => drained(x));
    await consumers.close();
    expect(n).toMatchObject({ users: 50, listing: { from: 10, reached: 10, of: 50, wrapped: true } });
    expect(n.added + n.coalesced).toBe(50);
    // The newer tick's first jobs are u11 on, from the middle of the first page: nobody was skipped,
    // and only the users the older tick reached were reached twice.
    expect(ids.filter((u) => !runs.has(u))).toEqual([]);
    expect(ids.slice(10).filter((u) => runs.get(u) !== 1)).toEqual([]);
  }, 30_000);
});

describe('tick counts', () => {
  it('count a user listed twice once: as a duplicate, not a second job', async () => {
    const x = await h({ SPOTTER_JOBS_FANOUT_PAGE: '3' });
    // u01 twice on different pages, u02 twice on one page.
    const listed = ['u01', 'u02', 'u02', 'u03', 'u04', 'u05', 'u06', 'u01', 'u07', 'u08'];
    const r = await fanOut({ ...x, handlers: testHandlers(listed) }, tick(x, 1000, 0));
    expect(await x.queues.get('sync').getWaitingCount()).toBe(8);
    expect(r).toMatchObject({ users: 10, added: 8, coalesced: 0, errors: 0, duplicates: 2 });
  });

  it('of a tick that fails on a later page keep what the pages before it added', async () => {
    const x = await h({ SPOTTER_JOBS_FANOUT_PAGE: '3' });
    const handlers: Handlers = {
      ...testHandlers([]),
      listUsers: async function* () {
        yield ['u01', 'u02', 'u03'];
        throw new Error('the listing broke on page 2');
      },
    };
    const ticks = new TickConsumer({ ...x, handlers });
    const job = await x.queues.schedules().add('tick', { schedule: 'sync', manual: true }, { jobId: 'manual_sync_5' });
    await expect(ticks.process(job)).rejects.toThrow(/page 2/);
    expect(await x.queues.get('sync').getWaitingCount()).toBe(3);
    expect(await lastTick(x.conn, x.prefix, 'sync')).toMatchObject({
      result: 'failed',
      users: 3,
      added: 3,
      error: 'the listing broke on page 2',
    });
  });
});

describe('an unreadable fan-out cursor', () => {
  it('is logged and treated as absent: the listing starts again and the tick finishes', async () => {
    const { log, lines } = capturingLogger('warn');
    const x = await h({}, log);
    const t = tick(x, 1000, 0);
    await x.conn.set(`${x.prefix}:spotter-jobs:fanout:${t.tickId}`, '{"position":{"skip":"lots"');
    await x.conn.hset(`${x.prefix}:spotter-jobs:fanout-schedule:sync`, 'pos', 'garbage');
    const r = await fanOut({ ...x, handlers: testHandlers(users(5)) }, t);
    expect(r).toMatchObject({ users: 5, added: 5, listing: { from: 0, reached: 5 } });
    const warned = lines.filter((l) => /unreadable; starting the listing again/.test(String(l.msg))).map((l) => l.msg);
    expect(warned).toEqual([
      'the fan-out cursor of this tick is unreadable; starting the listing again',
      "the schedule's listing position is unreadable; starting the listing again",
    ]);
  });
});

describe('a cursor listing that grows before where the last tick stopped', () => {
  it('still reaches every user: the wrapped pass stops at the cursor, not after a count', async () => {
    const x = await h();
    const ids = Array.from({ length: 20 }, (_, i) => `u${String((i + 1) * 10).padStart(3, '0')}`);
    const handlers = keysetListing(ids, { size: 5 });
    // No worker: the first tick adds u010–u100 (window 10) and waits; the second takes over there.
    const first = fanOut({ ...x, handlers }, tick(x, 1000, 10));
    await waitFor('the window full', async () => (await notStarted(x)) === 10);
    const second = fanOut({ ...x, handlers }, tick(x, 2000, 10));
    expect(await first).toMatchObject({ superseded: true, listing: { reached: 10 } });
    // Two users join before the cursor the second tick began at ("after:u100").
    ids.push('u015', 'u025');
    const consumers = new Consumers({ ...x, handlers: testHandlers(ids) }, [x.config.kinds.sync as KindConfig]);
    consumers.start();
    const n = await second;
    await waitFor('the queue drained', () => drained(x));
    await consumers.close();
    // Every one of the 22 was listed by the tick that began mid-listing, u090 and u100 included.
    expect(n.superseded).toBeUndefined();
    expect(n.users).toBe(22);
    expect(n.listing).toMatchObject({ wrapped: true });
  }, 30_000);
});
