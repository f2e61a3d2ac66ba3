/**
 * Fair admission of an item kind, in process on real Redis: one owner's flood does not hold up
 * another owner's jobs, and a lone owner uses every slot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fairOf } from '../src/jobs/fair-admission.js';
import { kindBacklog } from '../src/jobs/fair-backlog.js';
import { kindByName } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { addOwned, itemCatalog, recorder, startsAhead } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

const CONCURRENCY = 4;
const catalog = itemCatalog({ track: { concurrency: CONCURRENCY } });

describe('fair admission', () => {
  it("lets a small owner's jobs through while a big owner's flood mostly still waits", async () => {
    x = await harness({}, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'track');
    const window = kind?.fair?.window ?? 0;
    expect(window).toBe(16);
    await addOwned(h, 'track', 'big', 1500);
    const rec = recorder(2);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('the flood running', () => rec.starts.length >= 100);
    const startsAtAdd = rec.starts.length;
    await addOwned(h, 'track', 'small', 10);
    await waitFor("the small owner's ten done", () => rec.ends.filter((id) => id.startsWith('small-')).length === 10);
    const bigBefore = startsAhead(rec.starts, startsAtAdd, 'small', 'big');
    // Behind the small owner's ten at most: the window already in the queue, one big job per small
    // one (round robin), and the jobs running. First in, first out would put some 1,400 ahead.
    expect(bigBefore).toBeLessThanOrEqual(window + 10 + CONCURRENCY);
    const waitingBig = (await kindBacklog(h.conn, h.prefix, kind as NonNullable<typeof kind>)).top.find((o) => o.owner === 'big');
    expect(waitingBig?.waiting ?? 0).toBeGreaterThan(1000);
  });

  it('gives a lone owner every slot, and runs each of its jobs once', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const window = kindByName(h.config, 'track')?.fair?.window ?? 0;
    await addOwned(h, 'track', 'alone', 300);
    const queue = h.queues.get('track');
    // As each job starts: how many wait in the queue behind it (the window, refilled as jobs start).
    const rec = recorder(5, () => queue.getWaitingCount());
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('all 300 done', () => rec.ends.length >= 300);
    expect(new Set(rec.ends).size).toBe(300);
    expect(rec.ends).toHaveLength(300);
    expect(Math.max(...rec.starts.map((s) => s.running))).toBe(CONCURRENCY);
    // Work-conserving: while the owner's backlog still held jobs, the queue never ran dry, so no
    // slot waited for admission.
    const whileBacklog = rec.starts.slice(0, 300 - window - CONCURRENCY);
    const dry = whileBacklog.filter((s) => s.probed === 0).length;
    expect(dry).toBeLessThanOrEqual(2);
  });

  it("coalesces a fair user kind's jobs per user, in the backlog and in the queue, as fan-out does", async () => {
    x = await harness({ SPOTTER_JOBS_SYNC_FAIR: 'true', SPOTTER_JOBS_SYNC_FAIR_WINDOW: '1' }, { catalog });
    const h = x;
    const sync = kindByName(h.config, 'sync');
    if (!sync?.fair) throw new Error('sync is not fair');
    // The window (1) takes u1's first job; u2's waits in the backlog.
    const first = await trigger(h.queues, h.config, sync, { userId: 'u1' });
    const other = await trigger(h.queues, h.config, sync, { userId: 'u2' });
    await fairOf(h.queues).settle(sync);
    expect(await h.queues.get('sync').getWaitingCount()).toBe(1);
    // Again for each: u1's merges into its job in the queue, u2's into its job in the backlog.
    const again1 = await trigger(h.queues, h.config, sync, { userId: 'u1' });
    const again2 = await trigger(h.queues, h.config, sync, { userId: 'u2' });
    expect(again1).toMatchObject({ jobId: first.jobId, coalesced: true });
    expect(again2).toMatchObject({ jobId: other.jobId, coalesced: true });
    const b = await kindBacklog(h.conn, h.prefix, sync);
    expect(b.waiting).toBe(1);
  });
});
