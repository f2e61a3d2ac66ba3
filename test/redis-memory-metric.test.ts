/**
 * Redis out of memory is an outage PING does not show: with noeviction Redis refuses every write at
 * its maxmemory and still answers. /metrics reports used memory and the limit, read from a real Redis,
 * and the alert SpotterJobsRedisOutOfMemory fires on them (its rule is tested by promtool).
 */
import { describe, expect, it } from 'vitest';
import { createRegistry, registerClusterMetrics } from '../src/web/metrics.js';
import { harness } from './helpers/harness.js';
import { fillUntilOutOfMemory, privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

/** Used and max bytes, as a scrape reads them. */
async function memoryOf(registry: ReturnType<typeof createRegistry>): Promise<{ used: number; max: number }> {
  const text = await registry.getSingleMetricAsString('spotter_jobs_redis_memory_bytes');
  const value = (memory: string) =>
    Number(new RegExp(`^spotter_jobs_redis_memory_bytes\\{memory="${memory}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
  return { used: value('used'), max: value('max') };
}

describe("Redis' memory in /metrics", () => {
  it('shows used memory and the limit, and used reaches 95 % of it once Redis refuses writes for memory', async () => {
    const r = await privateRedis({ appendonly: false });
    const h = await harness({ REDIS_URL: r.redis.url });
    try {
      const registry = createRegistry();
      registerClusterMetrics(registry, h.queues, h.config);
      const before = await memoryOf(registry);
      expect(before.used).toBeGreaterThan(0);
      expect(before.max).toBe(0);

      const { max, refused } = await fillUntilOutOfMemory(h.conn, h.prefix, before.used);
      expect(refused).toMatch(/^OOM /);
      // The gauges of one scrape share an INFO read for a second: a later scrape reads Redis again.
      const full = await waitFor('a scrape that reads the filled Redis', async () => {
        const m = await memoryOf(registry);
        return m.max === max ? m : undefined;
      });
      expect(full.used).toBeGreaterThanOrEqual(0.95 * full.max);
      await h.conn.config('SET', 'maxmemory', '0');
    } finally {
      await h.dispose();
      await r.dispose();
    }
  });
});
