/** A schedule's first run: at a fixed slot, or at boot plus the kind's delay, kept across producer restarts. */
import { describe, expect, it } from 'vitest';
import { reconcileAsProducer } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { runCli } from './helpers/spawn-cli.js';

const { h } = useHarnesses();

describe('first run: a fixed slot, or at boot plus the delay', () => {
  it('places a boot schedule its offset after creation, keeps it across restarts, and refuses it for cron', async () => {
    const before = Date.now();
    const x = await h({ SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot', SPOTTER_JOBS_WRITEBACK_FIRST_RUN: 'slot' });
    await reconcileAsProducer(x);
    const e = await x.queues.schedules().getJobScheduler('enrichment');
    expect(e?.next).toBeGreaterThanOrEqual(before + 30_000);
    expect(e?.next).toBeLessThanOrEqual(Date.now() + 30_000);
    // The slot mode, as before: one minute into the hour.
    expect(((await x.queues.schedules().getJobScheduler('write-back'))?.next as number) % 3_600_000).toBe(60_000);
    // A producer restart leaves the cadence where it is.
    const again = await reconcileAsProducer(x);
    expect(again.unchanged).toContain('enrichment');
    expect((await x.queues.schedules().getJobScheduler('enrichment'))?.next).toBe(e?.next);
    const bad = await runCli(['status'], { SPOTTER_METADATA_INTERVAL: '0 * * * *', SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot' });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/SPOTTER_JOBS_ENRICHMENT_FIRST_RUN="boot".*interval schedules/);
  });
});
