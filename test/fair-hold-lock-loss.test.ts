/**
 * A capped owner's hold after a worker lost a job's lock: another worker runs the job again and lets
 * the hold go; the first worker must not take it back, or the owner stays at its cap for ever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../src/handlers/types.js';
import { fairKeys } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { queueKey } from '../src/redis/keys.js';
import { addOwned, itemCatalog } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { newPrefix } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const made: Harness[] = [];
afterEach(async () => {
  for (const h of made.splice(0).reverse()) await h.dispose();
});

const catalog = itemCatalog({ track: { concurrency: 1, ownerConcurrency: 1 } });
const env = { SPOTTER_JOBS_LOCK_DURATION: '2s', SPOTTER_JOBS_STALLED_INTERVAL: '1s' };

describe('an owner hold after a lost lock', () => {
  it('is not taken back by the worker that lost the lock once another ran the job', async () => {
    const prefix = newPrefix();
    const a = await harness(env, { catalog, prefix });
    made.push(a);
    const runs: Array<[string, string]> = [];
    let aborted = false;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const onA = consumeKinds(
      a,
      {
        track: async (item: { id: string }, ctx: HandlerContext) => {
          runs.push(['a', item.id]);
          if (item.id === 'alice-0' && runs.length === 1) {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
            });
            await gate;
          }
          return null;
        },
      } as never,
      ['track'],
    );
    await addOwned(a, 'track', 'alice', 2);
    await waitFor('alice-0 running on a', () => runs.length === 1);
    // A's lock goes, as when its event loop stalls past the lock.
    await a.conn.del(queueKey(prefix, 'track', 'alice__0:lock'));
    await waitFor('a told its lock is lost', () => aborted);
    const b = await harness(env, { catalog, prefix });
    made.push(b);
    consumeKinds(
      b,
      {
        track: async (item: { id: string }) => {
          runs.push(['b', item.id]);
          return null;
        },
      } as never,
      ['track'],
    );
    await waitFor('b ran both', () => runs.filter(([w]) => w === 'b').length === 2, { timeoutMs: 30_000 });
    release();
    const kind = kindByName(a.config, 'track');
    if (!kind) throw new Error('no track');
    const k = fairKeys(prefix, kind);
    await waitFor('every hold let go', async () => (await a.conn.zcard(k.held)) === 0);
    // A's renewal round (every minute), then a new job of alice: it must run.
    (onA as unknown as { fair: { holds: { renew(): void } } }).fair.holds.renew();
    await addOwned(a, 'track', 'alice', 1, 2);
    await waitFor('alice-2 ran', () => runs.some(([, id]) => id === 'alice-2'));
    expect(runs.filter(([, id]) => id === 'alice-0').length).toBe(2);
  });
});
