/** The per-owner cap of a fair kind (ownerConcurrency): across workers, no owner runs more than its cap. */
import { afterEach, describe, expect, it } from 'vitest';
import { kindByName } from '../src/jobs/registry.js';
import { fairKey } from '../src/redis/keys.js';
import { addOwned, itemCatalog, recorder } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('ownerConcurrency', () => {
  it('runs at most the cap of one owner at once across two workers, lets the others use the rest, and lets every hold go', async () => {
    const catalog = itemCatalog({ track: { concurrency: 8, ownerConcurrency: 2 } });
    x = await harness({}, { catalog });
    const h = x;
    await addOwned(h, 'track', 'a', 30);
    await addOwned(h, 'track', 'b', 30);
    await addOwned(h, 'track', 'c', 30);
    // Two consumers of the kind in one process stand for two workers: the cap is kept in Redis.
    const rec = recorder(15);
    consumeKinds(h, { track: rec.run }, ['track']);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('all 90 done', () => rec.ends.length >= 90);
    for (const owner of ['a', 'b', 'c']) expect(rec.maxByOwner.get(owner), owner).toBe(2);
    expect(Math.max(...rec.starts.map((s) => s.running))).toBeLessThanOrEqual(6);
    expect(new Set(rec.ends).size).toBe(90);
    await waitFor('every hold let go', async () => (await h.conn.zcard(fairKey(h.prefix, 'track', 'held'))) === 0);
    expect(await h.conn.hlen(fairKey(h.prefix, 'track', 'holds'))).toBe(0);
  });

  it('is refused on a kind that is not fair', async () => {
    const catalog = itemCatalog({ track: { concurrency: 8, ownerConcurrency: 2, fair: false } });
    await expect(harness({}, { catalog })).rejects.toThrow(
      /SPOTTER_JOBS_TRACK_OWNER_CONCURRENCY="2" is invalid; expected unset: the owner cap applies to fair kinds/,
    );
  });

  it('refuses a fair window on a kind that is not fair, as it refuses the cap', async () => {
    const catalog = itemCatalog({ track: { concurrency: 8 } });
    await expect(harness({ SPOTTER_JOBS_TRACK_FAIR: 'false', SPOTTER_JOBS_TRACK_FAIR_WINDOW: '20' }, { catalog })).rejects.toThrow(
      /SPOTTER_JOBS_TRACK_FAIR_WINDOW="20" is invalid; expected unset: the fair window applies to fair kinds/,
    );
  });

  it('lets the environment turn fair admission off for a kind whose declaration sets a window and a cap', async () => {
    const catalog = itemCatalog({ track: { concurrency: 8, fairWindow: 32, ownerConcurrency: 2 } });
    const h = await harness({ SPOTTER_JOBS_TRACK_FAIR: 'false' }, { catalog });
    try {
      expect(kindByName(h.config, 'track')?.fair).toBeUndefined();
    } finally {
      await h.dispose();
    }
  });
});
