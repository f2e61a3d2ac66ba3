/**
 * The owner cap holds for jobs that wait long and for retries: an admitted job whose hold's lease
 * lapses while it waits in the window keeps its place, and a failed attempt that is retried keeps
 * its owner's place until the job's last attempt ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../src/handlers/types.js';
import { fairOf } from '../src/jobs/fair-admission.js';
import { holdMember } from '../src/jobs/fair-keys.js';
import { addOwned, cappedTrack, itemCatalog } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('the owner cap over time', () => {
  it("keeps an admitted job's place when its lease lapses while it waits", async () => {
    const { h, kind, k } = await cappedTrack(1);
    x = h;
    await addOwned(h, 'track', 'alice', 3);
    await fairOf(h.queues).settle(kind);
    expect(await h.queues.get('track').getWaitingCount()).toBe(1);
    // Five minutes pass while alice__0 waits (no worker): its lease lapses.
    await h.conn.zadd(k.held, 1, holdMember('alice', 'alice__0'));
    await fairOf(h.queues).settle(kind);
    expect(await h.queues.get('track').getWaitingCount()).toBe(1);
    expect(await h.conn.hget(k.holds, 'alice')).toBe('1');
    expect(Number(await h.conn.zscore(k.held, holdMember('alice', 'alice__0')))).toBeGreaterThan(Date.now());
  });

  it('keeps the place of a job between its attempts', async () => {
    x = await harness({ SPOTTER_JOBS_BACKOFF: '300ms' }, { catalog: itemCatalog({ track: { concurrency: 2, ownerConcurrency: 1 } }) });
    const h = x;
    const events: string[] = [];
    let failed = false;
    consumeKinds(
      h,
      {
        track: async (item: { id: string }, _ctx: HandlerContext) => {
          events.push(`start ${item.id}`);
          if (item.id === 'alice-0' && !failed) {
            failed = true;
            throw new Error('first attempt fails');
          }
          events.push(`end ${item.id}`);
          return null;
        },
      } as never,
      ['track'],
    );
    await addOwned(h, 'track', 'alice', 2);
    await waitFor('both done', () => events.includes('end alice-0') && events.includes('end alice-1'));
    // alice-1 comes in only once alice-0 is done, its retry included.
    expect(events.indexOf('start alice-1')).toBeGreaterThan(events.indexOf('end alice-0'));
  });
});
