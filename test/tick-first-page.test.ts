/**
 * A new tick's first jobs go to Redis in a bulk add of 100, the rest of its first part right after,
 * so the workers start before a whole part is built and added. The cut is no stopping place: the
 * position moves on after the whole part, and jobs merged on either side of it are counted alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fanOut } from '../src/producers/fan-out.js';
import { testHandlers } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { keysetListing, type ListingSeen, syncTick as tick } from './helpers/listings.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});
async function h(): Promise<Harness> {
  const x = await harness({ SPOTTER_JOBS_SYNC_EXCLUSIVE: 'none' });
  open.push(x);
  return x;
}
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${String(i).padStart(4, '0')}`);

/** The size of each bulk add into the sync queue (the real add, only counted). */
function bulkSizes(x: Harness): number[] {
  const sizes: number[] = [];
  const q = x.queues.get('sync');
  const add = q.addBulk.bind(q);
  q.addBulk = (jobs) => {
    sizes.push(jobs.length);
    return add(jobs);
  };
  return sizes;
}

describe("a new tick's first bulk add", () => {
  it('holds 100 jobs, the rest of its part right after, with the window on or off', async () => {
    const x = await h();
    const sizes = bulkSizes(x);
    const handlers = testHandlers(users(1000));
    for (const window of [0, 1000]) {
      sizes.length = 0;
      const added: number[] = [];
      const r = await fanOut({ ...x, handlers }, tick(x, 1000 + window, window), async (p) => {
        added.push(p.added);
      });
      expect(r).toMatchObject({ users: 1000, added: 1000, duplicates: 0 });
      // Without a window one page of 1,000; with one, parts of half the window. The position moves
      // on after each whole part, never after the first 100.
      expect(sizes).toEqual(window === 0 ? [100, 900] : [100, 400, 500]);
      expect(added).toEqual(window === 0 ? [1000] : [500, 1000]);
      await x.queues.get('sync').obliterate({ force: true });
    }
  });

  it('counts users coalesced into their waiting jobs on both sides of the cut', async () => {
    const x = await h();
    const handlers = testHandlers(users(300));
    // An earlier tick's jobs wait (nothing runs): the new tick's jobs merge into them, in both bulk adds.
    await fanOut({ ...x, handlers }, tick(x, 1000, 0));
    const sizes = bulkSizes(x);
    const r = await fanOut({ ...x, handlers }, tick(x, 2000, 0));
    expect(sizes).toEqual([100, 200]);
    expect(r).toMatchObject({ users: 300, added: 0, coalesced: 300, duplicates: 0 });
    expect(await x.queues.get('sync').getWaitingCount()).toBe(300);
  });

  it('is no stopping place: a newer tick taking over goes on after the whole first part, at the cursor', async () => {
    const x = await h();
    const ids = users(1000);
    const seen: ListingSeen = { froms: [], pages: [] };
    const q = x.queues.get('sync');
    // 400 jobs of others wait and nothing runs: the first part (500) fits in the window, the next does not.
    await q.addBulk(Array.from({ length: 400 }, (_, i) => ({ name: 'other', data: {}, opts: { jobId: `other-${i}` } })));
    const older = fanOut({ ...x, handlers: keysetListing(ids, { seen }) }, tick(x, 1000, 1000));
    await waitFor('the first part added', async () => (await q.getWaitingCount()) === 900);
    // A user the older tick reached leaves the listing while it waits for room.
    ids.splice(ids.indexOf('u0050'), 1);
    const stop = new AbortController();
    const newer = fanOut({ ...x, handlers: keysetListing(ids, { seen }) }, tick(x, 2000, 1000), undefined, stop.signal);
    expect(await older).toMatchObject({ superseded: true, users: 500, added: 500, listing: { from: 0, reached: 500 } });
    await waitFor('the newer tick to list', async () => seen.froms.length >= 2);
    stop.abort(new Error('the test is done'));
    await newer.catch(() => {});
    expect(seen.froms[1]).toEqual({ skip: 500, token: 'after:u0499' });
    await q.obliterate({ force: true });
  });
});
