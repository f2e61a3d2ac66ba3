/**
 * A fair user kind coalesces per user as BullMQ does for fan-out: a trigger while the user's job
 * waits merges into it; one while it runs is kept and runs after it; one BullMQ merges at admission
 * is acknowledged at once, and runs no second time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../src/handlers/types.js';
import { fairOf } from '../src/jobs/fair-admission.js';
import { fairKeys } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { itemCatalog, mergedAtAdmission } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

const catalog = itemCatalog({});

describe('a fair user kind coalescing', () => {
  it("keeps a trigger made while the user's job runs, and runs it after", async () => {
    x = await harness({ SPOTTER_JOBS_SYNC_FAIR: 'true' }, { catalog });
    const h = x;
    const sync = kindByName(h.config, 'sync');
    if (!sync?.fair) throw new Error('sync is not fair');
    const runs: string[] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    consumeKinds(
      h,
      {
        sync: async (_u: unknown, ctx: HandlerContext) => {
          runs.push(ctx.jobId);
          if (runs.length === 1) await gate;
          return null;
        },
      } as never,
      ['sync'],
    );
    const first = await trigger(h.queues, h.config, sync, { userId: 'u1' });
    await waitFor('the first running', () => runs.length === 1);
    const second = await trigger(h.queues, h.config, sync, { userId: 'u1' });
    open();
    expect(second.jobId).not.toBe(first.jobId);
    await waitFor('the second run too', () => runs.length === 2);
    expect(runs[0]).toBe(first.jobId);
    const k = fairKeys(h.prefix, sync);
    await waitFor('nothing left admitting', async () => (await h.conn.zcard(k.admitting)) === 0 && (await h.conn.hlen(k.specs)) === 0);
  });
});

describe('a fair user job merged at admission', () => {
  it('is acknowledged at once, so it is not admitted again after the grace to run a second time', async () => {
    x = await harness({ SPOTTER_JOBS_SYNC_FAIR: 'true', SPOTTER_JOBS_SYNC_FAIR_WINDOW: '2' }, { catalog });
    const h = x;
    const sync = kindByName(h.config, 'sync');
    if (!sync?.fair) throw new Error('sync is not fair');
    const manual = await mergedAtAdmission(h, sync);
    const k = fairKeys(h.prefix, sync);
    expect(await h.queues.get('sync').getJob(manual)).toBeUndefined();
    expect(await h.conn.zcard(k.admitting)).toBe(0);
    expect(await h.conn.hlen(k.specs)).toBe(0);
  });

  it('merges two adds of one user filed in the same turn into one job', async () => {
    x = await harness({ SPOTTER_JOBS_SYNC_FAIR: 'true', SPOTTER_JOBS_SYNC_FAIR_WINDOW: '1' }, { catalog });
    const h = x;
    const sync = kindByName(h.config, 'sync');
    if (!sync?.fair) throw new Error('sync is not fair');
    // Another user's job takes the window, so u1's wait in the backlog.
    await trigger(h.queues, h.config, sync, { userId: 'u0' });
    await fairOf(h.queues).settle(sync);
    // Filed in one turn, so in one script call.
    const data = { userId: 'u1', scheduledFor: Date.now() };
    const fair = fairOf(h.queues);
    const [a, b] = await Promise.all([fair.add(sync, 'u1-a', data, true), fair.add(sync, 'u1-b', data, true)]);
    expect([a, b]).toEqual(['u1-a', 'u1-a']);
    expect(await h.conn.hlen(fairKeys(h.prefix, sync).specs)).toBe(1);
  });
});
