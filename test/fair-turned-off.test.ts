/**
 * A kind whose `fair` is turned off between runs: the jobs filed in its backlogs while it was fair
 * are shown by status until a worker of the kind moves them into its queue, and then all run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fairOf } from '../src/jobs/fair-admission.js';
import { fairKeys } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { readStatus } from '../src/ops/status.js';
import { addOwned, itemCatalog, recorder } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { newPrefix } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('fair turned off', () => {
  it('shows the leftover backlog, then a worker moves it into the queue and every job runs once', async () => {
    const prefix = newPrefix();
    const catalog = itemCatalog({ track: { concurrency: 2 } });
    const before = await harness({}, { prefix, catalog });
    const kind = kindByName(before.config, 'track');
    if (!kind?.fair) throw new Error('track is not fair');
    await addOwned(before, 'track', 'alice', 30);
    await fairOf(before.queues).settle(kind);
    expect(await before.queues.get('track').getWaitingCount()).toBe(kind.fair.window);
    await before.lifecycle.shutdown();
    const h = await harness({ SPOTTER_JOBS_TRACK_FAIR: 'false' }, { prefix, catalog });
    x = h;
    const status = await readStatus(h.queues, h.config);
    expect(status.backlog.find((b) => b.kind === 'track')).toMatchObject({ waiting: 30 - kind.fair.window });
    const rec = recorder(1);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('all 30 done', () => rec.ends.length >= 30);
    expect(new Set(rec.ends).size).toBe(30);
    const k = fairKeys(prefix, kind);
    await waitFor('the backlog gone', async () => (await h.conn.hlen(k.specs)) === 0);
    expect((await readStatus(h.queues, h.config)).backlog.find((b) => b.kind === 'track')).toBeUndefined();
  });
});
