/** A retry is never parked past the cap: a far Retry-After counts as a failed attempt, and ends in a dead letter. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import type { KindConfig } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import type { Handlers } from '../src/handlers/types.js';
import { RetryAfterError } from '../src/jobs/errors.js';
import { trigger } from '../src/ops/trigger.js';
import { Consumers } from '../src/workers/consumer.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('Retry-After past the cap', () => {
  it('retries with backoff and dead-letters when the attempts are used, instead of waiting until 9999', async () => {
    x = await harness({ SPOTTER_JOBS_SYNC_ATTEMPTS: '3', SPOTTER_JOBS_SYNC_BACKOFF: '20ms', SPOTTER_JOBS_MAX_RETRY_DELAY: '1m' });
    const h = x;
    let calls = 0;
    // What HTTP mode throws for `429` with `Retry-After: Fri, 31 Dec 9999 23:59:59 GMT`.
    const sync = async () => {
      calls++;
      throw new RetryAfterError('POST …/sync answered 429', Date.UTC(9999, 11, 31, 23, 59, 59) - Date.now());
    };
    const handlers: Handlers = { mode: 'module', listUsers: async function* () {}, run: { sync } };
    const kind = h.config.kinds.sync as KindConfig;
    const c = new Consumers({ ...h, handlers }, [kind]);
    c.start();
    h.lifecycle.add({ name: 'consumers', close: () => c.close() });
    await trigger(h.queues, h.config, kind, { userId: 'u1' });
    const [d] = await waitFor('a dead letter', async () => {
      const l = await h.deadLetters.list();
      return l.length > 0 ? l : undefined;
    });
    expect(calls).toBe(3);
    expect(d?.attemptsMade).toBe(3);
    expect(d?.failedReason).toMatch(/^attempts exhausted \(3\/3\): POST …\/sync answered 429 \(Retry-After \d+h.* is over the 1m cap/);
  });
});

describe('the retry delay cap in the configuration', () => {
  it('is 1h, and for a scheduled user kind never past its interval unless the kind asks', () => {
    const c = loadConfig({ SPOTTER_SYNC_INTERVAL: '5m' });
    expect(c.kinds.sync?.maxRetryDelayMs).toBe(5 * 60_000);
    expect(c.kinds.enrichment?.maxRetryDelayMs).toBe(3_600_000);
    const d = loadConfig({ SPOTTER_JOBS_MAX_RETRY_DELAY: '10m', SPOTTER_JOBS_SYNC_MAX_RETRY_DELAY: '2h' });
    expect(d.kinds.sync?.maxRetryDelayMs).toBe(2 * 3_600_000);
    expect(d.kinds.enrichment?.maxRetryDelayMs).toBe(10 * 60_000);
  });

  it.each(['SPOTTER_JOBS_MAX_RETRY_DELAY', 'SPOTTER_JOBS_SYNC_MAX_RETRY_DELAY'])('refuses a bad %s naming it', (name) => {
    expect(() => loadConfig({ [name]: 'forever' })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: '0s' })).toThrow(name);
  });
});
