/**
 * An owner's count of held places stays true: a job filed again under an id whose hold is still
 * leased counts once, a worker's renewal never brings back a hold let go elsewhere, and a user job
 * merged at admission gives its place back at once. Each of these once left an owner a place short
 * of its cap for good (or for a lease).
 */
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { fairOf } from '../src/jobs/fair-admission.js';
import { fairKeys, holdMember } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { scripted } from '../src/redis/commands.js';
import { OwnerHolds } from '../src/workers/owner-holds.js';
import { addOwned, cappedTrack, itemCatalog, mergedAtAdmission } from './helpers/fair.js';
import { type Harness, harness } from './helpers/harness.js';
import { newPrefix } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe("an owner's held places", () => {
  it('count once for a job removed and filed again under the same id while its hold is leased', async () => {
    const { h, kind, k } = await cappedTrack(2);
    x = h;
    await addOwned(h, 'track', 'alice', 1);
    await fairOf(h.queues).settle(kind);
    expect(await h.conn.hget(k.holds, 'alice')).toBe('1');
    // Removed on the board while it waits; its hold stays until its lease runs out.
    await (await h.queues.get('track').getJob('alice__0'))?.remove();
    await addOwned(h, 'track', 'alice', 1);
    await fairOf(h.queues).settle(kind);
    expect(await h.queues.get('track').getJob('alice__0')).toBeDefined();
    expect(await h.conn.hget(k.holds, 'alice')).toBe('1');
  });

  it("are not taken back by a worker's renewal once the job left it, and are taken again while it runs", async () => {
    const { h, kind, k } = await cappedTrack(1);
    x = h;
    const holds = new OwnerHolds(h.queues);
    const renew = () => (holds as unknown as { renew(): void }).renew();
    const tracked = (holds as unknown as { held: Map<string, unknown> }).held;
    const lock = (id: string) => `${k.queuePrefix}${id}:lock`;
    try {
      // This worker started alice__0; delayed by its exclusivity group (BullMQ gives the lock up), it
      // ran and ended on another worker, whose end let the hold go. The renewal must not take it again.
      const left = holdMember('alice', 'alice__0');
      await h.conn.set(lock('alice__0'), 'this-worker');
      holds.start(kind, 'alice__0', { id: 'alice-0', owner: 'alice' }, 'this-worker');
      await waitFor('the hold taken', async () => (await h.conn.zscore(k.held, left)) !== null);
      await h.conn.del(lock('alice__0'));
      await scripted(h.conn).sjFairRelease(k.held, k.holds, k.owners, k.parked, k.clock, '1', left);
      renew();
      await waitFor('the worker forgets alice__0', () => tracked.size === 0);
      // bob__0 runs here; a refill without the cap dropped every hold: the renewal takes it again.
      const runs = holdMember('bob', 'bob__0');
      await h.conn.set(lock('bob__0'), 'this-worker');
      holds.start(kind, 'bob__0', { id: 'bob-0', owner: 'bob' }, 'this-worker');
      await waitFor('the hold taken', async () => (await h.conn.zscore(k.held, runs)) !== null);
      await h.conn.del(k.held, k.holds);
      renew();
      await waitFor('bob held again', async () => (await h.conn.hget(k.holds, 'bob')) === '1');
      expect(await h.conn.zscore(k.held, left)).toBeNull();
      expect(await h.conn.hget(k.holds, 'alice')).toBeNull();
    } finally {
      holds.close();
    }
  });

  it('are not taken back by a worker whose lock on the job another worker took over', async () => {
    const { h, kind, k } = await cappedTrack(1);
    x = h;
    const member = holdMember('alice', 'alice__0');
    // This worker's event loop was blocked past the job's lock.
    const holds = new OwnerHolds(h.queues);
    const tracked = (holds as unknown as { held: Map<string, unknown> }).held;
    try {
      holds.start(kind, 'alice__0', { id: 'alice-0', owner: 'alice' }, 'this-worker');
      await waitFor('the hold taken', async () => (await h.conn.zscore(k.held, member)) !== null);
      // Another worker took the job over, ran it and let the hold go; then this worker's renewal fires.
      await h.conn.set(`${k.queuePrefix}alice__0:lock`, 'another-worker');
      await scripted(h.conn).sjFairRelease(k.held, k.holds, k.owners, k.parked, k.clock, '1', member);
      (holds as unknown as { renew(): void }).renew();
      await waitFor('the worker forgets the job', () => tracked.size === 0);
      expect(await h.conn.zscore(k.held, member)).toBeNull();
      expect(await h.conn.hget(k.holds, 'alice')).toBeNull();
    } finally {
      holds.close();
    }
  });

  it('give back the place of a user job merged at admission', async () => {
    const env = { SPOTTER_JOBS_SYNC_FAIR: 'true', SPOTTER_JOBS_SYNC_FAIR_WINDOW: '2', SPOTTER_JOBS_SYNC_OWNER_CONCURRENCY: '2' };
    x = await harness(env, { catalog: itemCatalog({}) });
    const h = x;
    const sync = kindByName(h.config, 'sync');
    if (!sync?.fair) throw new Error('sync is not fair');
    const manual = await mergedAtAdmission(h, sync);
    const k = fairKeys(h.prefix, sync);
    expect(await h.queues.get('sync').getJob(manual)).toBeUndefined();
    expect(await h.conn.zscore(k.held, holdMember('u1', manual))).toBeNull();
    expect(await h.conn.hget(k.holds, 'u1')).toBeNull();
    // Another user's place, admitted and not merged, is still held.
    expect(await h.conn.hget(k.holds, 'u0')).toBe('1');
  });

  it('give back the place of a user job merged at admission by a process started without the cap', async () => {
    const prefix = newPrefix();
    const fair = { SPOTTER_JOBS_SYNC_FAIR: 'true', SPOTTER_JOBS_SYNC_FAIR_WINDOW: '2' };
    const workers = await harness({ ...fair, SPOTTER_JOBS_SYNC_OWNER_CONCURRENCY: '2' }, { prefix, catalog: itemCatalog({}) });
    x = await harness(fair, { prefix, catalog: itemCatalog({}) });
    const h = x;
    try {
      const capped = kindByName(workers.config, 'sync');
      const sync = kindByName(h.config, 'sync');
      if (!capped?.fair || !sync?.fair) throw new Error('sync is not fair');
      // The workers' refill records their cap; the adder (an API server, say) refills by it.
      await fairOf(workers.queues).settle(capped);
      const manual = await mergedAtAdmission(h, sync);
      const k = fairKeys(prefix, sync);
      expect(await h.conn.hget(k.holds, 'u0')).toBe('1');
      expect(await h.conn.zscore(k.held, holdMember('u1', manual))).toBeNull();
      expect(await h.conn.hget(k.holds, 'u1')).toBeNull();
    } finally {
      await workers.dispose();
    }
  });

  it("keep the place of a user job kept to run after the user's running job", async () => {
    const env = { SPOTTER_JOBS_SYNC_FAIR: 'true', SPOTTER_JOBS_SYNC_OWNER_CONCURRENCY: '2' };
    x = await harness(env, { catalog: itemCatalog({}) });
    const h = x;
    const sync = kindByName(h.config, 'sync');
    if (!sync?.fair) throw new Error('sync is not fair');
    const q = h.queues.get('sync');
    await q.add(
      'user',
      { userId: 'u1', scheduledFor: Date.now() },
      { jobId: 'tick__u1', deduplication: { id: 'u1', keepLastIfActive: true } },
    );
    // A worker takes the tick's job: it runs while u1's manual job is admitted.
    const w = new Worker('sync', null, { connection: h.conn, prefix: h.prefix });
    try {
      expect((await w.getNextJob('test-token'))?.id).toBe('tick__u1');
      const manual = await trigger(h.queues, h.config, sync, { userId: 'u1' });
      await fairOf(h.queues).settle(sync);
      const k = fairKeys(h.prefix, sync);
      // BullMQ keeps it, under its own id, to run once the tick's job ends: its place stays held.
      expect(await h.conn.hget(`${h.prefix}:sync:dn:u1`, 'jid')).toBe(manual.jobId);
      expect(await h.conn.zscore(k.held, holdMember('u1', manual.jobId))).not.toBeNull();
      expect(await h.conn.hget(k.holds, 'u1')).toBe('1');
      // The tick's job runs past the hold's lease: the kept job's place is extended, not let go.
      await h.conn.zadd(k.held, 1, holdMember('u1', manual.jobId));
      await fairOf(h.queues).settle(sync);
      expect(Number(await h.conn.zscore(k.held, holdMember('u1', manual.jobId)))).toBeGreaterThan(Date.now());
      expect(await h.conn.hget(k.holds, 'u1')).toBe('1');
    } finally {
      await w.close();
    }
  });
});
