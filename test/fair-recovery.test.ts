/**
 * Fair admission across crashes, in process: jobs a refill handed out to an admitter that died before
 * adding them are admitted again after the grace and run once; a job is filed once however often it
 * is added.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fairOf } from '../src/jobs/fair-admission.js';
import { MOST_ADDS_PER_TRANSACTION } from '../src/jobs/fair-admit.js';
import { kindBacklog } from '../src/jobs/fair-backlog.js';
import { admitGraceMs } from '../src/jobs/fair-grace.js';
import { addKeys, fairKeys, refillKeys } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { scripted } from '../src/redis/commands.js';
import { addOwned, itemCatalog, recorder } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { privateRedis } from './helpers/redis.js';
import { transactionsDuring } from './helpers/transactions.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

const catalog = itemCatalog({ track: { concurrency: 2, fairWindow: 5 } });

describe('fair admission and crashes', () => {
  it('admits again, once, the jobs of an admitter that died between the refill and its add', async () => {
    // A 2 s grace: twice a 1 s job lock.
    x = await harness({ SPOTTER_JOBS_LOCK_DURATION: '1s' }, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'track');
    if (!kind?.fair) throw new Error('track is not fair');
    expect(admitGraceMs(h.config.lockDurationMs)).toBe(2000);
    const k = fairKeys(h.prefix, kind);
    const c = scripted(h.conn);
    // Filed straight through the script, so no refill follows.
    for (let i = 0; i < 12; i++) {
      const id = `dead__${i}`;
      await c.sjFairAdd(
        ...addKeys(k),
        id,
        JSON.stringify({ t: Date.now(), d: { id: `d${i}`, data: {}, scheduledFor: 1, owner: 'dead' } }),
        'dead',
        '0',
        '0',
      );
    }
    // The dying admitter's refill: five jobs handed out, never added.
    const [, ...handed] = await c.sjFairRefill(...refillKeys(k), '5', '2000', '1000', '0', '60000', 'now');
    expect(handed.length).toBe(10);
    expect(await h.queues.get('track').getWaitingCount()).toBe(0);
    expect(await h.conn.zcard(k.admitting)).toBe(5);
    const rec = recorder(5);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('all twelve done', () => rec.ends.length >= 12, { timeoutMs: 30_000 });
    const runs = new Map<string, number>();
    for (const s of rec.starts) runs.set(s.id, (runs.get(s.id) ?? 0) + 1);
    expect(runs.size).toBe(12);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(await h.conn.zcard(k.admitting)).toBe(0);
    expect(await h.conn.hlen(k.specs)).toBe(0);
  });

  it("does not let a dead admitter's jobs hold the window for every owner until the grace", async () => {
    // The default lock: a 60 s grace, far longer than this test waits.
    x = await harness({}, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'track');
    if (!kind?.fair) throw new Error('track is not fair');
    const k = fairKeys(h.prefix, kind);
    const c = scripted(h.conn);
    for (let i = 0; i < 5; i++) {
      const spec = JSON.stringify({ t: Date.now(), d: { id: `d${i}`, data: {}, scheduledFor: 1, owner: 'dead' } });
      await c.sjFairAdd(...addKeys(k), `dead__${i}`, spec, 'dead', '0', '0');
    }
    // The dying admitter's refill takes the whole window (5) and never adds a job.
    const [, ...handed] = await c.sjFairRefill(
      ...refillKeys(k),
      '5',
      String(admitGraceMs(h.config.lockDurationMs)),
      '1000',
      '0',
      '60000',
      'now',
      '1',
    );
    expect(handed.length).toBe(10);
    const rec = recorder(5);
    consumeKinds(h, { track: rec.run }, ['track']);
    await addOwned(h, 'track', 'bob', 1);
    await waitFor('bob ran', () => rec.ends.includes('bob-0'), { timeoutMs: 20_000 });
    // Long before the grace: the dead admitter's jobs are still admitting, to be admitted again then.
    expect(await h.conn.zcard(k.admitting)).toBe(5);
  });

  it('adds a refill larger than one transaction in several short ones, every job once and acknowledged', async () => {
    const jobs = 2 * MOST_ADDS_PER_TRANSACTION + 20;
    // Redis' own count of transactions, so a Redis of the test's own.
    const r = await privateRedis({ appendonly: false });
    try {
      const h = await harness({ REDIS_URL: r.redis.url }, { catalog: itemCatalog({ track: { concurrency: 2, fairWindow: jobs } }) });
      try {
        const kind = kindByName(h.config, 'track');
        if (!kind?.fair) throw new Error('track is not fair');
        const k = fairKeys(h.prefix, kind);
        const args = Array.from({ length: jobs }, (_, i) => [
          `o__${i}`,
          JSON.stringify({ t: Date.now(), d: { id: `o${i}`, data: {}, scheduledFor: 1, owner: 'o' } }),
          'o',
          '0',
          '0',
        ]).flat();
        await scripted(h.conn).sjFairAdd(...addKeys(k), ...args);
        // A long transaction holds every worker's commands behind it.
        const execs = await transactionsDuring(h.conn, () => fairOf(h.queues).settle(kind));
        expect(execs).toBe(Math.ceil(jobs / MOST_ADDS_PER_TRANSACTION));
        expect(await h.queues.get('track').getWaitingCount()).toBe(jobs);
        expect(await h.conn.zcard(k.admitting)).toBe(0);
        expect(await h.conn.hlen(k.specs)).toBe(0);
      } finally {
        await h.dispose();
      }
    } finally {
      await r.dispose();
    }
  });

  it('files a job once however often it is added, waiting or already in the queue', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'track');
    if (!kind) throw new Error('no track');
    // The window takes five; the rest wait in the backlog.
    await addOwned(h, 'track', 'o', 8);
    await fairOf(h.queues).settle(kind);
    expect(await h.queues.get('track').getWaitingCount()).toBe(5);
    // Added again: five from the queue, three from the backlog, all the same jobs.
    await addOwned(h, 'track', 'o', 8);
    await fairOf(h.queues).settle(kind);
    expect(await h.queues.get('track').getWaitingCount()).toBe(5);
    const b = await kindBacklog(h.conn, h.prefix, kind);
    expect(b).toMatchObject({ owners: 1, waiting: 3, admitting: 0 });
    expect(b.top[0]).toMatchObject({ owner: 'o', waiting: 3 });
  });
});
