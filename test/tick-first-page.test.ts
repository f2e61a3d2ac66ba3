/**
 * A new tick's first page is small (100 users), so the workers start before a whole page is built
 * and added. The source answers it as a page of its own: where a tick stops after it is the source's
 * cursor, never a count into a page that users may have left since.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { ListPosition, UserPage } from '../src/handlers/list-position.js';
import { moduleHandlers } from '../src/handlers/module.js';
import type { Handlers } from '../src/handlers/types.js';
import { userPages } from '../src/handlers/user-pages.js';
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
describe("a new tick's first page", () => {
  it('holds 100 users, for a listing without a cursor too, with the window on or off', async () => {
    const x = await h();
    const handlers = testHandlers(users(1000));
    for (const window of [0, 1000]) {
      const added: number[] = [];
      await fanOut({ ...x, handlers }, tick(x, 1000 + window, window), async (p) => {
        added.push(p.added);
      });
      // Pages of 1,000 without a window, of half the window with one.
      expect(added).toEqual(window === 0 ? [100, 1000] : [100, 500, 1000]);
      await x.queues.get('sync').obliterate({ force: true });
    }
  });

  it('of a cursor listing ends at its cursor: a newer tick taking over there skips nobody when a user before it left', async () => {
    const x = await h();
    const ids = users(1000);
    const seen: ListingSeen = { froms: [], pages: [] };
    const handlers = keysetListing(ids, { seen });
    const q = x.queues.get('sync');
    // 800 jobs of others wait and nothing runs: the first page fits in the window, the next does not.
    await q.addBulk(Array.from({ length: 800 }, (_, i) => ({ name: 'other', data: {}, opts: { jobId: `other-${i}` } })));
    const older = fanOut({ ...x, handlers }, tick(x, 1000, 1000));
    await waitFor('the first page added', async () => (await q.getWaitingCount()) === 900);
    // A user the older tick reached leaves the listing while it waits for room.
    ids.splice(ids.indexOf('u0050'), 1);
    const stop = new AbortController();
    const newer = fanOut({ ...x, handlers }, tick(x, 2000, 1000), undefined, stop.signal);
    expect(await older).toMatchObject({ superseded: true, users: 100, added: 100, listing: { from: 0, reached: 100 } });
    await waitFor('the newer tick to list', async () => seen.pages.length >= 3);
    stop.abort(new Error('the test is done'));
    await newer.catch(() => {});
    // The older tick asked for 100, then a full page; the newer one from the older one's cursor, 100 again.
    expect(seen.froms[1]).toEqual({ skip: 100, token: 'after:u0099' });
    expect(seen.pages.slice(0, 3)).toEqual([
      [100, 'u0000'],
      [500, 'u0100'],
      [100, 'u0100'],
    ]);
    await q.obliterate({ force: true });
  });

  it("is asked of a module's cursor listing, cut from a plain one, and not used for a page resumed part-way", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'first-page-'));
    const cursorFile = join(dir, 'cursor.mjs');
    const plainFile = join(dir, 'plain.mjs');
    const ids = users(25);
    writeFileSync(
      cursorFile,
      `const all = ${JSON.stringify(ids)};
export const asked = [];
export async function listUsers({ cursor, limit }) {
  asked.push(limit);
  const start = Number(cursor ?? 0);
  return { users: all.slice(start, start + limit), nextCursor: start + limit < all.length ? String(start + limit) : null };
}
export const sync = async () => null;`,
    );
    writeFileSync(plainFile, `export const listUsers = ${JSON.stringify(ids)};\nexport const sync = async () => null;`);
    const list = async (h: Handlers, from: ListPosition, first?: number) => {
      const out: UserPage[] = [];
      for await (const p of userPages(h, from, 10, undefined, first)) out.push(p);
      return out.map((p) => [p.users.length, p.next]);
    };
    try {
      const kinds = Object.values(loadConfig({}).kinds);
      const cursor = await moduleHandlers(cursorFile, kinds, { needsUsers: true, kinds: [] });
      expect(await list(cursor, { skip: 0 }, 3)).toEqual([
        [3, { skip: 3, token: '3' }],
        [10, { skip: 13, token: '13' }],
        [10, { skip: 23, token: '23' }],
        [2, { skip: 25 }],
      ]);
      expect((await import(cursorFile)).asked).toEqual([3, 10, 10, 10]);
      const plain = await moduleHandlers(plainFile, kinds, { needsUsers: true, kinds: [] });
      expect(await list(plain, { skip: 0 }, 3)).toEqual([
        [3, { skip: 3 }],
        [7, { skip: 10 }],
        [10, { skip: 20 }],
        [5, { skip: 25 }],
      ]);
      // Resumed 4 users into a page: that page is listed at its own size and the 4 dropped again.
      expect(await list(plain, { skip: 14, within: 4 }, 3)).toEqual([
        [6, { skip: 20 }],
        [5, { skip: 25 }],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
