/**
 * Changing a fair kind's owner cap between runs: owners parked at the old cap are not stranded when
 * the cap is removed or raised.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fairOf } from '../src/jobs/fair-admission.js';
import { fairKeys } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { addOwned, itemCatalog } from './helpers/fair.js';
import { type Harness, harness } from './helpers/harness.js';
import { newPrefix } from './helpers/redis.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

/** Five jobs of alice admitted under cap 1 (one admitted, alice parked), then the kind run with `after`. */
async function parkedThen(after: Record<string, unknown>): Promise<{ h: Harness; waiting: number; parked: number }> {
  const prefix = newPrefix();
  const before = await harness({}, { prefix, catalog: itemCatalog({ track: { concurrency: 2, ownerConcurrency: 1 } }) });
  const kind = kindByName(before.config, 'track');
  if (!kind) throw new Error('no track');
  await addOwned(before, 'track', 'alice', 5);
  await fairOf(before.queues).settle(kind);
  await fairOf(before.queues).settle(kind);
  const k = fairKeys(prefix, kind);
  expect(await before.conn.zcard(k.parked)).toBe(1);
  expect(await before.queues.get('track').getWaitingCount()).toBe(1);
  await before.lifecycle.shutdown();
  const h = await harness({}, { prefix, catalog: itemCatalog({ track: { concurrency: 2, ...after } }) });
  x = h;
  const again = kindByName(h.config, 'track');
  if (!again) throw new Error('no track');
  // A worker of the kind, restarted with the new cap: only such a process changes it.
  fairOf(h.queues).serve(again);
  await fairOf(h.queues).settle(again);
  return { h, waiting: await h.queues.get('track').getWaitingCount(), parked: await h.conn.zcard(k.parked) };
}

describe('an owner cap changed', () => {
  it('removed: admits the parked owner’s jobs and forgets the holds', async () => {
    const { h, waiting, parked } = await parkedThen({});
    expect(waiting).toBe(5);
    expect(parked).toBe(0);
    const kind = kindByName(h.config, 'track');
    if (!kind) throw new Error('no track');
    const k = fairKeys(h.prefix, kind);
    expect(await h.conn.zcard(k.held)).toBe(0);
    expect(await h.conn.hlen(k.holds)).toBe(0);
  });

  it('raised: admits the parked owner up to the new cap', async () => {
    const { waiting, parked } = await parkedThen({ ownerConcurrency: 3 });
    expect(waiting).toBe(3);
    expect(parked).toBe(1);
  });

  it('not by a process that only adds jobs: one started without the cap keeps the workers’ cap and holds', async () => {
    const prefix = newPrefix();
    const workers = await harness({}, { prefix, catalog: itemCatalog({ track: { concurrency: 2, ownerConcurrency: 1 } }) });
    const adder = await harness({}, { prefix, catalog: itemCatalog({ track: { concurrency: 2 } }) });
    try {
      const kind = kindByName(workers.config, 'track');
      const plain = kindByName(adder.config, 'track');
      if (!kind || !plain) throw new Error('no track');
      fairOf(workers.queues).serve(kind);
      await addOwned(workers, 'track', 'alice', 2);
      await fairOf(workers.queues).settle(kind);
      // An API server started without SPOTTER_JOBS_TRACK_OWNER_CONCURRENCY adds and refills.
      await addOwned(adder, 'track', 'alice', 3, 2);
      await fairOf(adder.queues).settle(plain);
      const k = fairKeys(prefix, kind);
      expect(await adder.queues.get('track').getWaitingCount()).toBe(1);
      expect(await adder.conn.hget(k.holds, 'alice')).toBe('1');
      expect(await adder.conn.zcard(k.parked)).toBe(1);
    } finally {
      await adder.dispose();
      await workers.dispose();
    }
  });

  it('nor one started with a cap the workers run without', async () => {
    const prefix = newPrefix();
    const workers = await harness({}, { prefix, catalog: itemCatalog({ track: { concurrency: 2 } }) });
    const adder = await harness({}, { prefix, catalog: itemCatalog({ track: { concurrency: 2, ownerConcurrency: 1 } }) });
    try {
      const kind = kindByName(workers.config, 'track');
      const capped = kindByName(adder.config, 'track');
      if (!kind || !capped) throw new Error('no track');
      fairOf(workers.queues).serve(kind);
      await fairOf(workers.queues).settle(kind);
      await addOwned(adder, 'track', 'alice', 3);
      await fairOf(adder.queues).settle(capped);
      expect(await adder.queues.get('track').getWaitingCount()).toBe(3);
      expect(await adder.conn.zcard(fairKeys(prefix, kind).parked)).toBe(0);
    } finally {
      await adder.dispose();
      await workers.dispose();
    }
  });
});
