/** `status` reads what the producer recorded in Redis, not the environment of the shell that runs it. */
import { describe, expect, it } from 'vitest';
import { reconcileAsProducer } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { testEnv } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';

const { h } = useHarnesses();

describe('status reads Redis, not the caller environment', () => {
  it('shows what the producer runs to a CLI started with only REDIS_URL', async () => {
    const x = await h({ SPOTTER_SYNC_INTERVAL: '1h', SPOTTER_METADATA_ENABLED: 'false', SPOTTER_JOBS_WRITEBACK_ENABLED: 'false' });
    await reconcileAsProducer(x);
    const s = await runCli(['status', '--json'], { REDIS_URL: testEnv(x.prefix).REDIS_URL as string, SPOTTER_JOBS_PREFIX: x.prefix });
    expect(s.code, s.stderr).toBe(0);
    const rows = (JSON.parse(s.stdout) as { schedules: Array<{ name: string; enabled: boolean; interval: string }>; catalog: string })
      .schedules;
    expect(rows.map((r) => [r.name, r.enabled, r.interval])).toEqual([
      ['sync', true, '1h'],
      ['enrichment', false, '1h'],
      ['write-back', false, '1h'],
    ]);
    const text = await runCli(['status'], { REDIS_URL: testEnv(x.prefix).REDIS_URL as string, SPOTTER_JOBS_PREFIX: x.prefix });
    expect(text.stdout).toMatch(/sync\s+sync\s+yes\s+1h/);
    expect(text.stdout).toMatch(/enrichment\s+enrichment\s+no/);
  });
});
